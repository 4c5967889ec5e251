"""What a failed delivery attempt is recorded as: a category and a fixed text, never the raw
error.

The attempt log is shown to subscribers. A raw connection error names addresses, ports and
errno texts ("Connection refused" against "timed out" maps a host's ports), so it is logged
on the server only; the log shows the category:

| category | what happened |
|---|---|
| `dns` | the host does not resolve |
| `refused_target` | the host or an address it resolves to is one deliveries are not made to |
| `connect` | no connection could be made to any of its addresses |
| `tls` | the TLS handshake or the certificate check failed |
| `timeout` | no complete answer within PUSH_TIMEOUT_SECONDS (the whole attempt) |
| `protocol` | the connection broke, or the answer was not HTTP |
| `status` | the receiver answered, but not 2xx |
| `secret` | the subscription's secret cannot be opened with PUSH_SECRET_KEYS |
"""

import ssl

import httpx

from service.core.settings import Settings
from service.push.subscriptions import TargetRefused, Unresolvable

# what each category means, for people: zh-Hans first, as everything the API shows
EXPLANATIONS: dict[str, dict[str, str]] = {
    "dns": {
        "zh-Hans": "接收方主机名无法解析",
        "zh-Hant": "接收方主機名稱無法解析",
        "en": "the receiver's host name does not resolve",
    },
    "refused_target": {
        "zh-Hans": "目标地址不允许推送（回环、链路本地、云元数据或本机地址）",
        "zh-Hant": "目標位址不允許推送（迴環、鏈路本地、雲端中繼資料或本機位址）",
        "en": "the target is refused (loopback, link-local, cloud metadata or this host)",
    },
    "connect": {
        "zh-Hans": "无法连接到接收方",
        "zh-Hant": "無法連線到接收方",
        "en": "no connection could be made to the receiver",
    },
    "tls": {
        "zh-Hans": "TLS 握手或证书校验失败",
        "zh-Hant": "TLS 交握或憑證驗證失敗",
        "en": "the TLS handshake or the certificate check failed",
    },
    "timeout": {
        "zh-Hans": "未在时限内收到完整应答",
        "zh-Hant": "未在時限內收到完整回應",
        "en": "no complete answer within the deadline",
    },
    "protocol": {
        "zh-Hans": "连接中断或应答不是 HTTP",
        "zh-Hant": "連線中斷或回應不是 HTTP",
        "en": "the connection broke or the answer was not HTTP",
    },
    "status": {
        "zh-Hans": "接收方应答了非 2xx 状态",
        "zh-Hant": "接收方回應了非 2xx 狀態",
        "en": "the receiver answered with a status other than 2xx",
    },
    "secret": {
        "zh-Hans": "订阅密钥无法用已配置的密钥打开",
        "zh-Hant": "訂閱密鑰無法用已設定的金鑰開啟",
        "en": "the subscription's secret cannot be opened with the keys configured",
    },
}
CATEGORIES = tuple(EXPLANATIONS)


def category_of(error: str | None) -> str | None:
    """The category an attempt's recorded error names (None for no error)."""
    if error is None:
        return None
    if error.startswith("HTTP "):
        return "status"
    head = error.split(":", 1)[0]
    return head if head in EXPLANATIONS else "secret"


def _caused_by_tls(error: BaseException) -> bool:
    seen: BaseException | None = error
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def categorize(failure: BaseException) -> str:
    """The category of an attempt's failure (see the module's table)."""
    if isinstance(failure, Unresolvable):
        return "dns"
    if isinstance(failure, TargetRefused):
        return "refused_target"
    if isinstance(failure, TimeoutError | httpx.TimeoutException):
        return "timeout"
    if isinstance(failure, httpx.HTTPError) and _caused_by_tls(failure):
        return "tls"
    if isinstance(failure, httpx.ConnectError):
        return "connect"
    if isinstance(failure, httpx.HTTPError):
        return "protocol"
    return "secret"  # a ValueError from unseal: the only other failure an attempt catches


def describe_failure(
    failure: BaseException | None, status: int | None, settings: Settings
) -> tuple[str | None, str | None]:
    """(category, text) of an attempt: (None, None) for a 2xx, ("status", "HTTP 503") for
    another answer, else the failure's category and a fixed text naming nothing internal."""
    if failure is None:
        if status is not None and 200 <= status < 300:
            return None, None
        return "status", f"HTTP {status}"
    category = categorize(failure)
    if category == "refused_target":
        # our own rule's words (which rule), never what the resolver or socket said
        return category, f"refused_target: {str(failure).split(',')[-1].strip()[:200]}"
    texts = {  # the others are recorded in the words that explain them
        "dns": "the host does not resolve",
        "timeout": f"no complete answer within {settings.push_timeout_seconds:g} s",
        "secret": str(failure)[:200],  # ours: which setting to fix
    }
    text = texts[category] if category in texts else EXPLANATIONS[category]["en"]
    return category, f"{category}: {text}"
