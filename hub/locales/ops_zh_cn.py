"""Chinese (zh-CN) labels of the operations desk's page (``/ops``, ``gateway/static/ops.html``).

Group and partition statuses (OK, WARNING, STALLED, STOPPED, ERROR) stay as they are: they are the
codes the alerts and ``/metrics`` use.
"""

DOMAIN = "ops"
LOCALE = "zh-CN"
MESSAGES = {
    "Operations desk · enforcement hub": "运维值守台 · 执行查控枢纽",
    "Operations desk": "运维值守台",
    "not loaded": "尚未加载",
    "forget token": "清除令牌",
    "Ops token": "运维令牌",
    "The bearer token of the operations desk (HUB_OPS_TOKEN; hub up prints it). It is kept in this "
    "browser only.": (
        "运维值守台的 Bearer 令牌（HUB_OPS_TOKEN；hub up 启动时会打印）。令牌只保存在本浏览器中。"
    ),
    "ops token": "运维令牌",
    "Open the desk": "进入值守台",
    "That token was refused.": "该令牌被拒绝。",
    "Consumer lag": "消费延迟",
    "Blue: messages behind (left scale). Red dashed: seconds behind (right scale). Status per group is "
    "its worst partition.": (
        "蓝线：积压消息数（左轴）。红色虚线：延迟秒数（右轴）。每个消费组的状态取其最差分区的状态。"
    ),
    "sampled every {interval} s, window {window} samples, STOPPED after {stop} s": (
        "每 {interval} 秒采样一次，窗口 {window} 个样本，{stop} 秒无进展判定为 STOPPED"
    ),
    "sampled at {time}": "采样时间 {time}",
    "sampler error: {error}": "采样出错：{error}",
    "no consumer groups yet": "暂无消费组",
    "lag {lag} messages · {seconds} s": "积压 {lag} 条 · {seconds} 秒",
    "-10 min": "-10 分钟",
    "now": "现在",
    "topic": "主题",
    "p": "分区",
    "committed": "已提交",
    "end": "末端",
    "lag": "积压",
    "lag s": "延迟秒",
    "status": "状态",
    "nothing committed: lag from the log start": "尚未提交：积压从日志起点计算",
    "– (start {position})": "–（起点 {position}）",
    "Agencies": "协执单位",
    "connectors {state}": "连接器 {state}",
    "agency": "协执单位",
    "health": "健康状况",
    "circuit": "熔断器",
    "in flight": "处理中",
    "oldest s": "最久秒数",
    "requests": "请求",
    "answered": "已答复",
    "no record": "无记录",
    "retried": "重试",
    "unavailable": "不可用",
    "failed": "失败",
    "dead letters": "死信",
    "last error": "最近错误",
    "OK": "正常",
    "UNKNOWN": "未知",
    "CIRCUIT OPEN": "已熔断",
    "DEGRADED": "降级",
    "closed ({failures} failing)": "闭合（连续失败 {failures} 次）",
    "open · probe in {seconds} s · {refused} refused": "断开 · {seconds} 秒后探测 · 已拒绝 {refused} 次",
    "half-open · {refused} refused": "半开 · 已拒绝 {refused} 次",
    "Dead letters": "死信",
    "{count} recorded": "已记录 {count} 条",
    "source topic": "来源主题",
    "stage": "环节",
    "count": "数量",
    "last": "最近一次",
    "updated {time}": "更新于 {time}",
    "update failed: {error}": "更新失败：{error}",
}
