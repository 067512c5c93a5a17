/* lint-model.h - what clang-tidy's analyzer is told about cnet, and only it
 * (scripts/lint.sh includes this before every file; nothing compiles it).
 *
 * The analyzer reads one file at a time, so it cannot see that the error
 * functions return the status they are given (never CN_OK: the cfg ones turn
 * CN_OK into CN_ERR_CFG), and it walks `return cn_errorf(...)` paths as if
 * they had succeeded: a pointer freed before such a return reads as used
 * after free by the caller. These macros say what the functions return. A
 * file that defines one of them gets -DCN_LINT_DEFINES_<NAME> instead.
 */
#ifndef CN_LINT_MODEL_H
#define CN_LINT_MODEL_H

#include "cnet/cfg.h"
#include "cnet/error.h"

#define CN_LINT_FAIL(code) ((cn_status)(code) ? (cn_status)(code) : CN_ERR_INTERNAL)

#ifndef CN_LINT_DEFINES_CN_ERRORF
#define cn_errorf(err, code, ...) ((void)cn_errorf(err, code, __VA_ARGS__), CN_LINT_FAIL(code))
#endif
#ifndef CN_LINT_DEFINES_CN_SEC_ERRORF
#define cn_sec_errorf(s, code, err, ...)                                                         \
    ((void)cn_sec_errorf(s, code, err, __VA_ARGS__), CN_LINT_FAIL(code))
#endif
#ifndef CN_LINT_DEFINES_CN_SEC_BAD
#define cn_sec_bad(s, key, code, err, ...)                                                       \
    ((void)cn_sec_bad(s, key, code, err, __VA_ARGS__), CN_LINT_FAIL(code))
#endif

#endif
