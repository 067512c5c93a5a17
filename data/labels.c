/* labels.c - semi-supervised training: keep the labels of a subset of the
 * training file, the others becoming -1 (unlabelled), which the label
 * losses skip (averaging over the labelled samples of a batch) while the
 * losses that need no label still see every sample.
 *
 *   label_fraction = f   round(f n) of the n samples (after `limit`) keep
 *                        theirs: the first ones of a permutation of 0..n-1
 *                        shuffled by an RNG seeded with seed ^ 0x1ABE1, so the
 *                        same seed keeps the same samples;
 *   label_mask = FILE    the samples whose indices FILE lists keep theirs.
 *
 * The mask covers the whole training file, the validation part included, so
 * validation sees no more labels than training; the test split keeps all.
 * FILE holds 0-based indices into the training file, separated by
 * whitespace, one or more per line; `#` starts a comment. An index out of
 * range or a word that is not one is an error naming FILE:line. FILE must be
 * a regular file of at most 1 MiB + 16 bytes per training sample.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "labels.h"

cn_status cn_label_keys_read(cn_sec *s, cn_label_keys *k, cn_error *err)
{
    cn_status st;
    *k = (cn_label_keys){.fraction = 1.0f};
    if ((st = cn_sec_float(s, "label_fraction", &k->fraction, err)) ||
        (st = cn_sec_str(s, "label_mask", &k->mask, err)))
        return st;
    if (k->mask && !*k->mask)
        k->mask = NULL;
    if (k->mask && cn_sec_has(s, "label_fraction"))
        return cn_sec_bad(s, "label_mask", CN_ERR_CFG, err,
                          "give label_fraction or label_mask, not both");
    k->line = cn_sec_line(s, k->mask ? "label_mask" : "label_fraction");
    return CN_OK;
}

/* Mark keep[i] = 1 for each index listed in path (n samples). The file is
 * bounded by what n samples justify: 1 MiB of comments and 16 bytes an index. */
static cn_status read_mask(const char *path, int n, char *keep, cn_error *err)
{
    char *text, *save = NULL;
    size_t len;
    cn_status st = cn_file_slurp(path, "a label mask", ((size_t)1 << 20) + 16 * (size_t)n,
                                 &text, &len, err);
    if (st) {
        cn_error_prefix(err, "label_mask ");
        return st;
    }
    if (strlen(text) != len)
        st = cn_errorf(err, CN_ERR_FORMAT, "%s: contains a NUL byte (expected a text file)",
                       path);
    char *line = text;
    for (int no = 1; !st && line; no++) {
        char *nl = strchr(line, '\n'), *hash = strchr(line, '#');
        if (nl)
            *nl = '\0';
        if (hash)
            *hash = '\0';
        for (char *w = strtok_r(line, " \t\r,", &save); w && !st;
             w = strtok_r(NULL, " \t\r,", &save)) {
            char *end;
            long i = strtol(w, &end, 10);
            if (*end || i < 0 || i >= n)
                st = cn_errorf(err, CN_ERR_FORMAT, "%s:%d: '%s' is not a sample index in "
                               "[0, %d)", path, no, w, n);
            else
                keep[i] = 1;
        }
        line = nl ? nl + 1 : NULL;
    }
    free(text);
    return st;
}

cn_status cn_label_keep(cn_dataset *train, const cn_label_keys *k, const char *cfg_file,
                        uint64_t seed, cn_error *err)
{
    int n = train->n;
    if (!k->mask && k->fraction >= 1.0f)
        return CN_OK;
    if (!train->labels)
        return cn_errorf(err, CN_ERR_CFG, "%s:%d: %s needs labelled data, but %s has no "
                         "labels", cfg_file, k->line, k->mask ? "label_mask" : "label_fraction",
                         train->source);
    char *keep = calloc((size_t)(n > 0 ? n : 1), 1);
    int *order = malloc((size_t)(n > 0 ? n : 1) * sizeof *order);
    cn_status st = CN_OK;
    if (!keep || !order) {
        st = cn_errorf(err, CN_ERR_NOMEM, "out of memory for the label mask of %d samples", n);
    } else if (k->mask) {
        st = read_mask(k->mask, n, keep, err);
    } else {
        cn_rng rng;
        cn_rng_seed(&rng, seed ^ 0x1ABE1);
        for (int i = 0; i < n; i++)
            order[i] = i;
        cn_rng_shuffle(&rng, order, n);
        long kept = lround((double)n * k->fraction);
        for (long i = 0; i < kept; i++)
            keep[order[i]] = 1;
    }
    for (int i = 0; !st && i < n; i++)
        if (!keep[i])
            train->labels[i] = -1;
    free(keep);
    free(order);
    return st;
}
