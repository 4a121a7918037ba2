"""The API's error messages in Simplified Chinese (``Accept-Language: zh-CN``).

Keys are the English templates as the code writes them (``gateway/problems.py`` for titles and
summaries, the routes' :class:`hub.i18n.Message` texts, the validators' messages, pydantic's own
message templates by error type); ``{placeholders}`` are kept, a plural ``{expected_plural}`` dropped.
"""

from __future__ import annotations

DOMAIN = "api"
LOCALE = "zh-CN"

MESSAGES: dict[str, str] = {
    # titles of the problem types (gateway/problems.py)
    "Bad request": "请求格式错误",
    "Unauthorized": "未授权",
    "Forbidden": "禁止访问",
    "Not found": "未找到",
    "Method not allowed": "不允许的请求方法",
    "Conflict": "冲突",
    "Request body too large": "请求体过大",
    "Invalid request": "请求无效",
    "Internal error": "内部错误",
    "Service unavailable": "服务不可用",
    # details
    "{count} fields are invalid: {fields}": "{count} 个字段无效：{fields}",
    "missing or invalid bearer token": "缺少或无效的 Bearer 访问令牌",
    "the method {method} is not allowed on {path}": "{path} 不支持 {method} 方法",
    "no route {path}": "不存在路径 {path}",
    "the hub could not answer this request; the failure was logged": "平台未能处理此请求，故障已记录",
    "{what} {ident} not found": "{what} {ident} 不存在",
    "case": "案件",
    "inquiry": "查询",
    "control order": "控制令",
    "batch": "批量查询",
    "case {case_id} not found": "案件 {case_id} 不存在",
    "case number {case_number} is already registered by this court as case {case_id}": (
        "本院已登记案号 {case_number}，对应案件 {case_id}"
    ),
    "not a debtor of case {case_id}: a court may only inquire about a party subject to enforcement "
    "in that case": "不是案件 {case_id} 的被执行人：法院只能查询本案被执行人的财产",
    "{officer} is not an officer of court {court_id} (HUB_COURT_OFFICERS)": (
        "{officer} 不是法院 {court_id} 的执行人员（HUB_COURT_OFFICERS）"
    ),
    "{judge} is not a judge of court {court_id} who may approve control orders": (
        "{judge} 不是法院 {court_id} 有权批准控制措施的法官"
    ),
    "no inquiry of case {case_id} found this asset": "案件 {case_id} 的查询中没有该财产",
    "already used with a different request body": "该幂等键已用于另一个不同的请求体",
    "not a number of bytes": "不是字节数",
    "not valid JSON (at character {position})": "不是有效的 JSON（第 {position} 个字符处）",
    "the request body ({size} bytes) exceeds the limit of {limit} bytes (HUB_MAX_REQUEST_BYTES)": (
        "请求体（{size} 字节）超过上限 {limit} 字节（HUB_MAX_REQUEST_BYTES）"
    ),
    "the request body exceeds the limit of {limit} bytes (HUB_MAX_REQUEST_BYTES)": (
        "请求体超过上限 {limit} 字节（HUB_MAX_REQUEST_BYTES）"
    ),
    "the body is not valid UTF-8 (byte 0x{byte} at position {position})": (
        "请求体不是有效的 UTF-8（位置 {position} 的字节 0x{byte}）"
    ),
    # validators' messages (schemas/)
    "must not be negative": "不得为负数",
    "must be greater than zero": "必须大于零",
    "must be more than zero": "必须大于零",
    "money has at most two decimal places (fen)": "金额最多两位小数（分）",
    'must be a plain decimal string of ASCII digits with at most two decimals, such as "1500.00"': (
        '必须是由 ASCII 数字组成、最多两位小数的十进制字符串，例如 "1500.00"'
    ),
    'money must be a decimal string such as "100000.00", not a float': (
        '金额必须是十进制字符串，例如 "100000.00"，不能是浮点数'
    ),
    'money must be a decimal string such as "100000.00", not a number': (
        '金额必须是十进制字符串，例如 "100000.00"，不能是数字'
    ),
    "not an enforcement case number such as (2026)鄂0111执1234号": (
        "不是执行案号，应形如 (2026)鄂0111执1234号"
    ),
    "give at least one agency, or omit the field for all": ("至少给出一个机构，或省略该字段以查询全部机构"),
    # pydantic's templates (by error type)
    "Field required": "必填字段",
    "Extra inputs are not permitted": "不允许的额外字段",
    "Input should be a valid string": "应为字符串",
    "Input should be a valid integer": "应为整数",
    "Input should be a valid integer, unable to parse string as an integer": (
        "应为整数，无法将字符串解析为整数"
    ),
    "Input should be a valid integer, got a number with a fractional part": "应为整数，不能带小数部分",
    "Input should be a valid number": "应为数字",
    "Input should be a valid number, unable to parse string as a number": "应为数字，无法将字符串解析为数字",
    "Input should be a valid boolean": "应为布尔值",
    "Input should be a valid boolean, unable to interpret input": "应为布尔值，无法识别输入",
    "Input should be a valid list": "应为列表",
    "Input should be a valid dictionary": "应为对象",
    "Input should be a valid dictionary or instance of {class_name}": "应为对象",
    "Input should be {expected}": "应为 {expected}",
    "Input should be greater than {gt}": "应大于 {gt}",
    "Input should be greater than or equal to {ge}": "应大于或等于 {ge}",
    "Input should be less than {lt}": "应小于 {lt}",
    "Input should be less than or equal to {le}": "应小于或等于 {le}",
    "String should have at least {min_length} character{expected_plural}": "至少应有 {min_length} 个字符",
    "String should have at most {max_length} character{expected_plural}": "最多只能有 {max_length} 个字符",
    "String should match pattern '{pattern}'": "应符合格式 '{pattern}'",
    "{field_type} should have at least {min_length} item{expected_plural} after validation, not "
    "{actual_length}": "至少应有 {min_length} 项，实际 {actual_length} 项",
    "{field_type} should have at most {max_length} item{expected_plural} after validation, not "
    "{actual_length}": "最多只能有 {max_length} 项，实际 {actual_length} 项",
    "Invalid JSON: {error}": "JSON 无效：{error}",
    "JSON input should be string, bytes or bytearray": "JSON 输入应为字符串或字节",
    "Input should be a finite number": "应为有限数字",
    "Input should be a valid datetime": "应为日期时间",
    "Input should be a valid datetime, {error}": "应为日期时间，{error}",
}
