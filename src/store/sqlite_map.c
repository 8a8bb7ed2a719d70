/*
 * The VFS of reader connections: the default one ("unix"), except that the
 * database file stays mapped across commits.
 *
 * A reader with mmap on finds a page by a pointer into the map instead of a
 * pread and a copy into its page cache. But SQLite unmaps the whole file
 * whenever a read transaction begins after another connection committed,
 * and every audited read commits: the map would be torn down and faulted in
 * again every few reads, dearer than the preads it saves.
 *
 * SQLite unmaps because the file may have changed size. Its contents need
 * no such care: the map is shared with the kernel's page cache, so it shows
 * every checkpoint at once, and SQLite reads a page from the file (by map
 * or by pread alike) only when no frame of the log shadows it for the
 * reader's snapshot, and no checkpoint may overwrite such a page while the
 * snapshot lasts. So here the request to unmap after a change is honoured
 * only when the file shrank, or grew by more than a quarter since the last
 * unmapping honoured; until then SQLite reads pages past the end of the map
 * with pread. The size is asked of the file (one fstat) only after another
 * connection committed.
 *
 * There are two of it: one over "unix", one over "unix-excl" for a process
 * that holds its database alone (YW_DB_EXCLUSIVE).
 */
#include "store/sqlite_map.h"

#include <pthread.h>
#include <string.h>

typedef struct {
    sqlite3_file base;
    sqlite3_int64 size; /* at the last unmapping let through, -1 before any */
    sqlite3_file *real; /* the base VFS's file, allocated right after this struct */
} map_file;

static sqlite3_vfs map_vfs[2]; /* over "unix", over "unix-excl" */
static sqlite3_io_methods map_methods;

#define REAL(f) (((map_file *)(f))->real)

static int map_close(sqlite3_file *f)
{
    return REAL(f)->pMethods->xClose(REAL(f));
}
static int map_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
    return REAL(f)->pMethods->xRead(REAL(f), buf, n, off);
}
static int map_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
    return REAL(f)->pMethods->xWrite(REAL(f), buf, n, off);
}
static int map_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    return REAL(f)->pMethods->xTruncate(REAL(f), size);
}
static int map_sync(sqlite3_file *f, int flags)
{
    return REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int map_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    return REAL(f)->pMethods->xFileSize(REAL(f), size);
}
static int map_lock(sqlite3_file *f, int level)
{
    return REAL(f)->pMethods->xLock(REAL(f), level);
}
static int map_unlock(sqlite3_file *f, int level)
{
    return REAL(f)->pMethods->xUnlock(REAL(f), level);
}
static int map_check_reserved_lock(sqlite3_file *f, int *out)
{
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}
static int map_file_control(sqlite3_file *f, int op, void *arg)
{
    return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}
static int map_sector_size(sqlite3_file *f)
{
    return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int map_device_characteristics(sqlite3_file *f)
{
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int map_shm_map(sqlite3_file *f, int region, int size, int extend, void volatile **out)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), region, size, extend, out);
}
static int map_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    return REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags);
}
static void map_shm_barrier(sqlite3_file *f)
{
    REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int map_shm_unmap(sqlite3_file *f, int delete_flag)
{
    return REAL(f)->pMethods->xShmUnmap(REAL(f), delete_flag);
}
static int map_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **out)
{
    *out = NULL; /* NULL: SQLite reads the page instead */
    return REAL(f)->pMethods->iVersion >= 3 ? REAL(f)->pMethods->xFetch(REAL(f), off, n, out) : SQLITE_OK;
}

static int map_unfetch(sqlite3_file *f, sqlite3_int64 off, void *page)
{
    map_file *m = (map_file *)f;
    if (m->real->pMethods->iVersion < 3)
        return SQLITE_OK;
    if (!page) { /* "unmap everything" */
        sqlite3_int64 size;
        if (m->real->pMethods->xFileSize(m->real, &size) == SQLITE_OK && size >= m->size && size - m->size <= m->size / 4)
            return SQLITE_OK;
        m->size = -1;
        int rc = m->real->pMethods->xUnfetch(m->real, off, page);
        if (rc == SQLITE_OK && m->real->pMethods->xFileSize(m->real, &size) == SQLITE_OK)
            m->size = size;
        return rc;
    }
    return m->real->pMethods->xUnfetch(m->real, off, page);
}

static int map_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags, int *out_flags)
{
    sqlite3_vfs *base = vfs->pAppData;
    if (!(flags & SQLITE_OPEN_MAIN_DB))
        return base->xOpen(base, name, f, flags, out_flags); /* the log and others: the base VFS's file as is */
    map_file *m = (map_file *)f;
    memset(m, 0, sizeof *m);
    m->size = -1;
    m->real = (sqlite3_file *)(m + 1);
    int rc = base->xOpen(base, name, m->real, flags, out_flags);
    if (m->real->pMethods)
        m->base.pMethods = &map_methods;
    return rc;
}

static void map_init(void)
{
    static const char *const names[2][2] = {{"unix", YW_SQLITE_MAP_VFS}, {"unix-excl", YW_SQLITE_MAP_VFS "-excl"}};
    map_methods = (sqlite3_io_methods){
        .iVersion = 3,
        .xClose = map_close,
        .xRead = map_read,
        .xWrite = map_write,
        .xTruncate = map_truncate,
        .xSync = map_sync,
        .xFileSize = map_file_size,
        .xLock = map_lock,
        .xUnlock = map_unlock,
        .xCheckReservedLock = map_check_reserved_lock,
        .xFileControl = map_file_control,
        .xSectorSize = map_sector_size,
        .xDeviceCharacteristics = map_device_characteristics,
        .xShmMap = map_shm_map,
        .xShmLock = map_shm_lock,
        .xShmBarrier = map_shm_barrier,
        .xShmUnmap = map_shm_unmap,
        .xFetch = map_fetch,
        .xUnfetch = map_unfetch,
    };
    for (int i = 0; i < 2; i++) {
        sqlite3_vfs *base = sqlite3_vfs_find(names[i][0]);
        if (!base)
            continue;
        map_vfs[i] = *base;
        map_vfs[i].zName = names[i][1];
        map_vfs[i].pAppData = base;
        map_vfs[i].pNext = NULL;
        map_vfs[i].szOsFile = (int)sizeof(map_file) + base->szOsFile;
        map_vfs[i].xOpen = map_open;
        sqlite3_vfs_register(&map_vfs[i], 0);
    }
}

const char *yw_sqlite_map_vfs(bool exclusive)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, map_init);
    return map_vfs[exclusive].zName;
}
