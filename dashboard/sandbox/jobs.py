"""The sandbox's background job: posting an employee's click to the app's callback URL, as WeCom
would, with WeCom's retries."""
from ..tasks import job
from . import callbacks


def init_app(app):
    """Register the outgoing-callback job (run by `flask --app wsgi worker`); returns it."""
    return job(app, callbacks.CALLBACK_JOB, callbacks.deliver)
