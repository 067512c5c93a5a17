/* data.h - datasets on disk, the train/valid/test splits and the batch loader.
 *
 * A dataset type is one file in data/ exporting a `const cn_dataset_ops`
 * (idx, csv, imgdir). Datasets are read whole into memory at open (bytes
 * stay bytes: x = u8 * scale; csv values are floats). The loader cuts an index
 * list into batches; the epoch's permutation is drawn on the caller's thread
 * from the caller's RNG, and one persistent worker thread fills the next
 * batch while the current one trains.
 */
#ifndef CNET_DATA_H
#define CNET_DATA_H

#include "cfg.h"
#include "tensor.h"

typedef enum cn_split { CN_SPLIT_TRAIN, CN_SPLIT_TEST } cn_split;

typedef struct cn_dataset {
    char source[512];     /* file or folder, for messages */
    int n;                /* samples */
    int c, h, w;          /* shape of one sample */
    int n_classes;        /* 0 when unlabelled */
    unsigned char *u8;    /* (n, c*h*w) raw bytes, or NULL */
    float *f32;           /* (n, c*h*w) values, or NULL */
    float scale;          /* u8 samples read as u8 * scale */
    int *labels;          /* (n) class index, or NULL */
} cn_dataset;

typedef struct cn_dataset_ops {
    const char *type;
    const cn_key *keys;
    const char *doc;
    /* Load one split described by the [data] section. */
    cn_status (*load)(cn_sec *s, cn_split split, cn_dataset **out, cn_error *err);
} cn_dataset_ops;

/* Write sample i as floats into x (c*h*w values). */
void cn_dataset_sample(const cn_dataset *ds, int i, float *x);
void cn_dataset_free(cn_dataset *ds);

/* Read an IDX file (optionally gzip'd): magic, dims, unsigned bytes.
 * *dims gets up to 4 sizes; *data is malloc'd. Errors name the file and, for
 * truncation, the bytes expected and found. */
cn_status cn_idx_read(const char *path, int *ndim, int dims[4], unsigned char **data,
                      cn_error *err);
/* Write an IDX file of unsigned bytes (gzip'd when path ends in .gz). */
cn_status cn_idx_write(const char *path, int ndim, const int dims[4], const unsigned char *data,
                       cn_error *err);

/* Find a dataset file: absolute or ./-relative paths as they are, otherwise
 * searched in $CNET_DATA_PATH (colon-separated), ./datasets and /usr/share/datasets. */
cn_status cn_data_locate(const char *name, char *out, size_t size, cn_error *err);

/* ---- the splits of one experiment ---- */

typedef struct cn_data {
    cn_dataset *train, *test;
    int *train_idx, n_train; /* the training part of `train` */
    int *valid_idx, n_valid; /* validation carved from `train` (valid_fraction) */
    int prefetch;            /* use the loader thread */
} cn_data;

/* Keys of [data] common to every dataset type. */
extern const cn_key cn_data_common_keys[];

/* Open the datasets of the cfg's [data] section; the validation split is a
 * seeded draw from `seed`. */
cn_status cn_data_open(const cn_cfg *cfg, uint64_t seed, cn_data **out, cn_error *err);
void cn_data_close(cn_data *d);

/* ---- batches ---- */

typedef struct cn_batch {
    float *x;    /* (n, c*h*w), valid until the next cn_loader_next */
    int *labels; /* (n), -1 when the dataset has none */
    int n;       /* samples in this batch */
} cn_batch;

typedef struct cn_loader cn_loader;

/* A loader over ds[idx[0..n_idx)] (idx NULL: every sample of ds, in order,
 * n_idx ignored) in batches of `batch`; drop_last drops a
 * final partial batch; prefetch starts the worker thread. */
cn_status cn_loader_create(const cn_dataset *ds, const int *idx, int n_idx, int batch,
                           int drop_last, int prefetch, cn_loader **out, cn_error *err);
/* Begin an epoch: permute with rng (NULL keeps the order). */
void cn_loader_epoch(cn_loader *ld, cn_rng *rng);
/* Next batch; returns 0 at the end of the epoch. */
int cn_loader_next(cn_loader *ld, cn_batch *b);
/* Batches per epoch. */
int cn_loader_batches(const cn_loader *ld);
void cn_loader_free(cn_loader *ld);

/* A dataset type by name (built-in or registered), or NULL. */
const cn_dataset_ops *cn_dataset_find(const char *type);
/* NULL-terminated list of every dataset type: built-ins, then registered ones. */
const cn_dataset_ops *const *cn_dataset_types(void);
/* Add a dataset type, which [data] type= then accepts; as for layers
 * (layer.h), before opening data and not thread-safe. CN_ERR_CFG when ops is
 * NULL, has no load, its type is not 1 to CN_NAME_MAX-1 characters of
 * [a-z0-9_] or already a dataset type, or CN_REGISTER_MAX dataset types were
 * already registered. */
cn_status cn_dataset_register(const cn_dataset_ops *ops, cn_error *err);

/* ---- image folders and conversion (data/imgdir.c, data/convert.c) ---- */

/* Read an image folder: one subfolder per class (label = the folder's index
 * in strcmp order), each holding .png/.jpg/.jpeg/.bmp files (any case, taken
 * in name order) decoded to `channels` (1 or 3).
 * @param origin where height x width came from, for the size-mismatch message
 * @return u8 samples (n, c, h, w), scale 1/255, n_classes = the folder count */
cn_status cn_imgdir_read(const char *dir, int channels, int height, int width, const char *origin,
                         cn_dataset **out, cn_error *err);
/* Write an IDX images/labels pair as out_dir/<label>/<index>.png (label folders
 * zero-padded to one width, indices to at least 5 digits, so name order is
 * label and index order); *n and *n_classes (NULL allowed) get the counts of
 * images and of class folders (a label no image has gets none). */
cn_status cn_convert_idx_to_dir(const char *images, const char *labels, const char *out_dir,
                                int *n, int *n_classes, cn_error *err);
/* Read an image folder (cn_imgdir_read) into IDX files: images (n, h, w) for
 * one channel, (n, 3, h, w) for RGB, and labels (n); gzip'd when a name ends
 * in .gz. Samples come out grouped by class, in name order within a class. */
cn_status cn_convert_dir_to_idx(const char *dir, int height, int width, int channels,
                                const char *out_images, const char *out_labels, int *n,
                                int *n_classes, cn_error *err);

#endif
