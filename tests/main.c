/* main.c - runs every Check suite through one SRunner (fork mode, so a crash
 * is a failed test). */
#include <stdlib.h>

#include <check.h>

#define SUITES(X) \
    X(cfg) X(cluster) X(optim) X(data) X(data_img) X(layers) X(losses) X(net) X(ckpt) X(train) \
    X(cli) X(visualize) X(sesm) X(eval) X(pca) X(vae) X(coop) X(errors) \
    X(registry) X(readers) X(crash) X(cookbook) X(groups) X(lca)

#define DECLARE(name) Suite *name##_suite(void);
SUITES(DECLARE)

int main(void)
{
    SRunner *sr = srunner_create(NULL);
#define ADD(name) srunner_add_suite(sr, name##_suite());
    SUITES(ADD)
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
