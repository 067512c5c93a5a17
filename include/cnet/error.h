/* error.h - status codes, error values and the log callback.
 *
 * Fallible functions return cn_status and take `cn_error *err` last (NULL is
 * allowed). The library never prints to stdout and never exits: messages go
 * into err->msg, and progress notes go through the log callback.
 */
#ifndef CNET_ERROR_H
#define CNET_ERROR_H

typedef enum cn_status {
    CN_OK = 0,
    CN_ERR_NOMEM,    /* allocation failed */
    CN_ERR_IO,       /* file missing, unreadable or unwritable */
    CN_ERR_CFG,      /* malformed or inconsistent cfg */
    CN_ERR_SHAPE,    /* shapes of layers, targets or files disagree */
    CN_ERR_FORMAT,   /* a file's content is not what it claims to be */
    CN_ERR_NUMERIC,  /* NaN or Inf during training */
    CN_ERR_USAGE,    /* bad command-line use */
    CN_ERR_INTERNAL, /* a bug in cnet */
    CN_STATUS_COUNT
} cn_status;

typedef struct cn_error {
    cn_status code;
    char msg[1024];
} cn_error;

/* Short name of a status ("cfg error", ...). */
const char *cn_status_str(cn_status code);

/* Fill err (if not NULL) with code and a printf-style message; returns code. */
cn_status cn_errorf(cn_error *err, cn_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix err->msg with a printf-style context ("file.ckpt: " ...); returns err->code. */
cn_status cn_error_prefix(cn_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

typedef enum cn_log_level { CN_LOG_DEBUG, CN_LOG_INFO, CN_LOG_WARN } cn_log_level;
typedef void (*cn_log_fn)(cn_log_level level, const char *msg, void *user);

/* Install the only global: the log callback (NULL silences the library). */
void cn_log_set(cn_log_fn fn, void *user);
/* Send a printf-style message to the log callback. */
void cn_logf(cn_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
