-- Data elements (数据元): the shared vocabulary resource items are bound to.
-- Shipped with the national standard set that every platform starts from;
-- the data bureau adds its own.

CREATE TABLE elements (
    id          TEXT PRIMARY KEY,           -- identifier, e.g. id_number
    name        TEXT NOT NULL,              -- 公民身份号码
    definition  TEXT,
    type        TEXT NOT NULL CHECK (type IN ('C', 'N', 'Y', 'D', 'T', 'L', 'M', 'G', 'B', 'I', 'F')),
    length      INTEGER NOT NULL DEFAULT 0, -- maximum characters; 0: no bound
    validator   TEXT,                       -- see src/catalog/element.h
    sensitivity TEXT NOT NULL CHECK (sensitivity IN ('L1', 'L2', 'L3', 'L4')),
    mask        TEXT NOT NULL DEFAULT 'none',
    source      TEXT,                       -- the standard it comes from
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

INSERT INTO elements (id, name, definition, type, length, validator, sensitivity, mask, source, created_at, updated_at)
SELECT column1, column2, column3, column4, column5, column6, column7, column8, column9,
       CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER), CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
FROM (VALUES
    ('id_number', '公民身份号码', '居民身份证上的公民身份号码', 'C', 18, 'id_card', 'L3', 'id_card', 'GB 11643-1999'),
    ('name', '姓名', '自然人的姓名', 'C', 50, NULL, 'L3', 'name', 'GB/T 19488'),
    ('gender', '性别', '人的性别代码：0 未知, 1 男, 2 女, 9 未说明', 'C', 1, 'enum:0|1|2|9', 'L2', 'none', 'GB/T 2261.1'),
    ('birth_date', '出生日期', '自然人的出生日期', 'D', 10, 'date', 'L3', 'none', 'GB/T 7408'),
    ('ethnicity', '民族', '民族代码（两位数字）', 'C', 2, 'regex:[0-9]{2}', 'L3', 'none', 'GB/T 3304'),
    ('nationality', '国籍', '国家和地区代码（三位字母）', 'C', 3, 'regex:[A-Z]{3}', 'L2', 'none', 'GB/T 2659'),
    ('phone', '手机号码', '中国大陆移动电话号码', 'C', 11, 'phone', 'L3', 'phone', 'GB/T 19488'),
    ('telephone', '联系电话', '固定电话或移动电话号码', 'C', 20, 'regex:[0-9+-]{5,20}', 'L3', 'phone', 'GB/T 19488'),
    ('email', '电子邮箱', '电子邮件地址', 'C', 100, 'regex:[^@ ]+@[^@ ]+', 'L3', 'full', 'GB/T 19488'),
    ('address', '住址', '自然人的住所地址', 'C', 200, NULL, 'L3', 'address', 'GB/T 19488'),
    ('household_address', '户籍地址', '户口登记的地址', 'C', 200, NULL, 'L3', 'address', 'GA/T 2000'),
    ('region_code', '行政区划代码', '县级及以上行政区划代码', 'C', 6, 'region', 'L1', 'none', 'GB/T 2260'),
    ('marital_status', '婚姻状况', '婚姻状况代码：10 未婚, 20 已婚, 30 丧偶, 40 离婚, 90 未说明', 'C', 2, 'enum:10|20|21|22|23|30|40|90', 'L3', 'none', 'GB/T 2261.2'),
    ('education', '学历', '学历代码', 'C', 2, 'regex:[0-9]{2}', 'L2', 'none', 'GB/T 4658'),
    ('occupation', '职业', '职业分类名称', 'C', 100, NULL, 'L2', 'none', 'GB/T 6565'),
    ('death_date', '死亡日期', '自然人死亡的日期', 'D', 10, 'date', 'L3', 'none', 'GB/T 19488'),
    ('household_number', '户号', '户口簿的户号', 'C', 20, NULL, 'L3', 'full', 'GA/T 2000'),
    ('relation_to_head', '与户主关系', '家庭关系代码', 'C', 2, 'regex:[0-9]{2}', 'L3', 'none', 'GB/T 4761'),
    ('uscc', '统一社会信用代码', '法人和其他组织统一社会信用代码', 'C', 18, 'uscc', 'L1', 'none', 'GB 32100-2015'),
    ('org_code', '组织机构代码', '组织机构代码', 'C', 9, 'org_code', 'L1', 'none', 'GB 11714-1997'),
    ('enterprise_name', '企业名称', '市场主体登记的名称', 'C', 200, NULL, 'L1', 'none', 'GB/T 19488'),
    ('legal_representative', '法定代表人', '法定代表人或负责人的姓名', 'C', 50, NULL, 'L2', 'name', 'GB/T 19488'),
    ('legal_representative_id', '法定代表人身份证号码', '法定代表人的公民身份号码', 'C', 18, 'id_card', 'L3', 'id_card', 'GB 11643-1999'),
    ('registered_capital', '注册资本', '注册资本（万元）', 'Y', 20, 'range:0..', 'L1', 'none', 'GB/T 19488'),
    ('currency', '币种', '货币代码（三位字母）', 'C', 3, 'regex:[A-Z]{3}', 'L1', 'none', 'GB/T 12406'),
    ('business_scope', '经营范围', '登记的经营范围', 'M', 4000, NULL, 'L1', 'none', 'GB/T 19488'),
    ('establishment_date', '成立日期', '市场主体成立的日期', 'D', 10, 'date', 'L1', 'none', 'GB/T 19488'),
    ('enterprise_type', '企业类型', '市场主体类型名称', 'C', 100, NULL, 'L1', 'none', 'GB/T 19488'),
    ('registration_authority', '登记机关', '登记机关名称', 'C', 200, NULL, 'L1', 'none', 'GB/T 19488'),
    ('business_address', '住所', '市场主体的住所（经营场所）', 'C', 200, NULL, 'L1', 'none', 'GB/T 19488'),
    ('operating_status', '经营状态', '存续、在业、吊销、注销、迁出', 'C', 10, 'enum:存续|在业|吊销|注销|迁出|停业', 'L1', 'none', 'GB/T 19488'),
    ('industry_code', '行业代码', '国民经济行业分类代码', 'C', 5, 'regex:[A-T][0-9]{0,4}', 'L1', 'none', 'GB/T 4754'),
    ('license_number', '证照编号', '证照的编号', 'C', 64, NULL, 'L2', 'none', 'GB/T 36903'),
    ('license_name', '证照名称', '证照的名称', 'C', 100, NULL, 'L1', 'none', 'GB/T 36903'),
    ('issue_date', '签发日期', '证照签发的日期', 'D', 10, 'date', 'L1', 'none', 'GB/T 36903'),
    ('valid_from', '有效期起', '有效期开始日期', 'D', 10, 'date', 'L1', 'none', 'GB/T 36903'),
    ('valid_until', '有效期至', '有效期截止日期', 'D', 10, 'date', 'L1', 'none', 'GB/T 36903'),
    ('issuing_authority', '发证机关', '签发机关名称', 'C', 200, NULL, 'L1', 'none', 'GB/T 36903'),
    ('social_security_number', '社会保障号码', '社会保障号码（与公民身份号码相同）', 'C', 18, 'id_card', 'L3', 'id_card', 'GB/T 19488'),
    ('insurance_status', '参保状态', '参保、暂停、终止', 'C', 10, 'enum:参保|暂停|终止', 'L3', 'none', 'GB/T 19488'),
    ('bank_account', '银行账号', '银行结算账户号码', 'C', 32, 'regex:[0-9]{8,32}', 'L4', 'bank_card', 'GB/T 19488'),
    ('tax_amount', '纳税金额', '纳税金额（元）', 'Y', 20, 'range:0..', 'L3', 'none', 'GB/T 19488'),
    ('plate_number', '机动车号牌号码', '机动车号牌号码', 'C', 10, NULL, 'L2', 'none', 'GA 36'),
    ('credit_rating', '信用等级', 'A、B、C、D', 'C', 1, 'enum:A|B|C|D', 'L2', 'none', 'GB/T 22117'),
    ('record_time', '记录时间', '记录产生的日期和时间', 'T', 40, 'datetime', 'L1', 'none', 'GB/T 7408')
);
