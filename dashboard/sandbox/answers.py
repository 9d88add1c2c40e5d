"""WeCom's JSON answers: errcode 0 with fields, or an errcode with an errmsg in WeCom's style."""
import secrets
import time

MORE_INFO = "https://open.work.weixin.qq.com/devtool/query?e={code}"


def ok(**fields) -> dict:
    return {"errcode": 0, "errmsg": "ok", **fields}


def error(errcode: int, text: str, **fields) -> dict:
    """Like WeCom: the reason, a hint to quote to support, and where to read about the code."""
    hint = f"[{int(time.time())}_{secrets.token_hex(4)}]"
    return {"errcode": errcode,
            "errmsg": f"{text}, hint: {hint}, more info at {MORE_INFO.format(code=errcode)}",
            **fields}


class Refusal(Exception):
    """Raised inside a handler to answer with an errcode."""

    def __init__(self, errcode: int, text: str, **fields) -> None:
        super().__init__(errcode, text)
        self.answer = error(errcode, text, **fields)
