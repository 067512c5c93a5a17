/* mkdata.c - write the tiny dataset of `make memcheck`: DIR/fashion-mnist/
 * holding the four Fashion-MNIST file names (gzip'd IDX) with 256 training
 * and 64 test images of 28x28 in 10 classes. Class c is a bright bar at row
 * 2c plus noise, so a training run has something to learn. A build tool,
 * not part of the library: it prints and exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cnet/cnet.h"

enum { H = 28, W = 28, CLASSES = 10 };

static int write_split(const char *dir, const char *images, const char *labels, int n,
                       cn_rng *rng)
{
    unsigned char *x = malloc((size_t)n * H * W), *y = malloc((size_t)n);
    if (!x || !y)
        return 1;
    for (int i = 0; i < n; i++) {
        int c = (int)cn_rng_below(rng, CLASSES);
        y[i] = (unsigned char)c;
        for (int j = 0; j < H * W; j++)
            x[(size_t)i * H * W + j] = (unsigned char)(j / W == 2 * c ? 200 + cn_rng_below(rng, 56)
                                                                      : cn_rng_below(rng, 60));
    }
    char path[1024];
    cn_error err;
    const int dims_x[4] = {n, H, W, 0}, dims_y[4] = {n, 0, 0, 0};
    int bad = 0;
    snprintf(path, sizeof path, "%s/%s", dir, images);
    if (cn_idx_write(path, 3, dims_x, x, &err) ||
        (snprintf(path, sizeof path, "%s/%s", dir, labels),
         cn_idx_write(path, 1, dims_y, y, &err))) {
        fprintf(stderr, "mkdata: %s\n", err.msg);
        bad = 1;
    }
    free(x);
    free(y);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mkdata DIR\n");
        return 2;
    }
    char dir[900];
    snprintf(dir, sizeof dir, "%s/fashion-mnist", argv[1]);
    mkdir(argv[1], 0755);
    mkdir(dir, 0755);
    cn_rng rng;
    cn_rng_seed(&rng, 7);
    return write_split(dir, "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 256,
                       &rng) ||
           write_split(dir, "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", 64, &rng);
}
