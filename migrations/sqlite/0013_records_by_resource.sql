-- The records of one resource, in storage order: what quality scores,
-- conflict detection and the demo's sample read, and what a filtered query
-- pages through. A bulk load appends to one resource, so this index grows
-- at its end (resource, then rowid) and costs the load little.
CREATE INDEX records_resource ON records(resource);
