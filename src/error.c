/* error.c - status names, error formatting and the log callback. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cnet/error.h"

#define CN_MIN_SIZE(a, b) ((a) < (b) ? (a) : (b))

static const char *const status_names[CN_STATUS_COUNT] = {
    "ok", "out of memory", "i/o error", "cfg error", "shape error",
    "format error", "numeric error", "usage error", "internal error",
};

const char *cn_status_str(cn_status code)
{
    return (unsigned)code < CN_STATUS_COUNT ? status_names[code] : "unknown status";
}

cn_status cn_errorf(cn_error *err, cn_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

cn_status cn_error_prefix(cn_error *err, const char *fmt, ...)
{
    if (!err)
        return CN_ERR_INTERNAL;
    char old[sizeof err->msg];
    memcpy(old, err->msg, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof err->msg)
        memcpy(err->msg + n, old, CN_MIN_SIZE(strlen(old) + 1, sizeof err->msg - (size_t)n));
    err->msg[sizeof err->msg - 1] = 0;
    return err->code;
}

/* The only global of the library (ggml's habit): where log lines go. */
static cn_log_fn log_fn;
static void *log_user;

void cn_log_set(cn_log_fn fn, void *user)
{
    log_fn = fn;
    log_user = user;
}

void cn_logf(cn_log_level level, const char *fmt, ...)
{
    if (!log_fn)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_fn(level, msg, log_user);
}
