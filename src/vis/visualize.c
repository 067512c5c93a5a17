/* visualize.c - pictures of a network: filters, reconstructions, learning
 * curves (docs/visualize.md).
 *
 * Filters. Unit l of the first layer computes h_l = f(W_l . x + b_l). Over
 * inputs of unit norm, W_l . x is largest at x = W_l / ||W_l|| (Cauchy-
 * Schwarz), so that input is the picture of unit l. Each tile is stretched
 * to [0, 255] by its own min and max; the stretch ignores a positive scale,
 * so the picture of W_l / ||W_l|| is the stretch of W_l itself.
 *
 * Reconstructions. Eval-mode forward of held-out samples; the reconstruction
 * loss's layer output, reshaped to the input's C x H x W, is drawn below
 * each input. Both rows share one min/max stretch, so brightness compares.
 *
 * Pictures are grids of tiles: C = 1 is gray, C = 3 is RGB, other C show the
 * first channel; tiles smaller than CN_VIS_MIN_TILE are scaled up (nearest).
 * Separators are 1 pixel in a colour no tile uses (blue-gray), which is why
 * every picture is RGB (the grid and PNG helpers are in canvas.c).
 *
 * Learning curves. The library only writes a gnuplot script with the data
 * inline; `cnet visualize` runs gnuplot on it, because only the command
 * line starts other programs.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "canvas.h"

#define BAND_GAP 4 /* pixels between bands of reconstructions */
/* log.csv: a regular file of at most 256 MiB (a line an epoch: millions) */
#define LOG_MAX_BYTES ((uint64_t)256 << 20)

cn_layer *cn_vis_first_param_layer(const cn_net *net)
{
    for (int i = 1; i < cn_net_n_layers(net); i++)
        if (cn_net_layer(net, i)->n_params > 0)
            return cn_net_layer(net, i);
    return NULL;
}

/* The filters of l's W as `n` images of c x h x w. A dense W (N, K) on an
 * input of K = C*H*W values gives N images of the input's shape (a flat
 * input gives 1 x K strips); any other W (F, C, kh, kw) gives F kernels. */
static cn_status filter_shape(const cn_layer *l, const cn_param **wp, int *n, int *c, int *h,
                              int *w, cn_error *err)
{
    const cn_param *p = cn_layer_param(l, "W");
    if (!p)
        return cn_errorf(err, CN_ERR_SHAPE, "layer '%s' (%s), the first with parameters, has "
                         "no weights W to draw as filters", l->name, l->ops->type);
    const cn_layer *in = l->in[0];
    size_t k_in = (size_t)in->c * in->h * in->w;
    *wp = p;
    *n = p->shape[0];
    if (p->shape[2] == 1 && p->shape[3] == 1 && (size_t)p->shape[1] == k_in) {
        int flat = in->h == 1 && in->w == 1;
        *c = flat ? 1 : in->c, *h = flat ? 1 : in->h, *w = flat ? in->c : in->w;
    } else {
        *c = p->shape[1], *h = p->shape[2], *w = p->shape[3];
    }
    return CN_OK;
}

/* One run's filters laid out as a grid: a panel of the picture. */
typedef struct panel {
    const cn_param *p;
    int n, c, h, w;        /* filters drawn, each c x h x w */
    int cols, s, tw, th;   /* grid columns, scale, tile size in pixels */
    int width, height;     /* the panel in pixels */
} panel;

static cn_status panel_layout(const cn_net *net, panel *pn, cn_error *err)
{
    const cn_layer *l = cn_vis_first_param_layer(net);
    if (!l)
        return cn_errorf(err, CN_ERR_SHAPE, "%s: no layer has parameters, so there are no "
                         "filters to draw", cn_net_name(net));
    pn->c = pn->h = pn->w = 1;
    cn_status rc = filter_shape(l, &pn->p, &pn->n, &pn->c, &pn->h, &pn->w, err);
    if (rc)
        return rc;
    pn->n = CN_MIN(pn->n, CN_VIS_MAX_FILTERS);
    pn->cols = 1;
    while (pn->cols * pn->cols < pn->n)
        pn->cols++;
    int rows = (pn->n + pn->cols - 1) / pn->cols;
    pn->s = cn_tile_scale(pn->h, pn->w), pn->tw = pn->w * pn->s, pn->th = pn->h * pn->s;
    pn->width = pn->cols * pn->tw + pn->cols - 1;
    pn->height = rows * pn->th + rows - 1;
    return CN_OK;
}

/* Draw the panel with its top left corner at (x0, 0). */
static void panel_draw(cn_canvas *cv, int x0, const panel *pn)
{
    size_t size = (size_t)pn->c * pn->h * pn->w; /* one filter: a row of W */
    for (int f = 0; f < pn->n; f++) {
        const float *img = pn->p->value + (size_t)f * size;
        float lo, hi;
        cn_min_max(img, (size_t)(pn->c == 3 ? 3 : 1) * pn->h * pn->w, &lo, &hi); /* shown */
        cn_put_tile(cv, x0 + f % pn->cols * (pn->tw + 1), f / pn->cols * (pn->th + 1), img,
                    pn->c, pn->h, pn->w, pn->s, lo, hi);
    }
}

cn_status cn_vis_filters_side(const cn_net *const *nets, int n, const char *path,
                              cn_error *err)
{
    panel *pn = calloc((size_t)CN_MAX(n, 1), sizeof *pn);
    if (!pn)
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory for %d panels of filters", n);
    int width = 0, height = 0;
    cn_status rc = CN_OK;
    for (int i = 0; i < n && !rc; i++) {
        rc = panel_layout(nets[i], &pn[i], err);
        width += (i ? CN_VIS_PANEL_GAP : 0) + pn[i].width;
        height = CN_MAX(height, pn[i].height);
    }
    cn_canvas cv;
    if (!rc && !(rc = cn_canvas_init(&cv, width, height, err))) {
        for (int i = 0, x0 = 0; i < n; x0 += pn[i].width + CN_VIS_PANEL_GAP, i++)
            panel_draw(&cv, x0, &pn[i]);
        rc = cn_canvas_write(&cv, path, err);
    }
    free(pn);
    return rc;
}

cn_status cn_vis_filters(const cn_net *net, const char *path, cn_error *err)
{
    return cn_vis_filters_side(&net, 1, path, err);
}

const cn_loss *cn_vis_recon_loss(const cn_net *net)
{
    for (int i = 0; i < cn_net_n_losses(net); i++)
        if (cn_net_loss(net, i)->target_kind == CN_TARGET_INPUT)
            return cn_net_loss(net, i);
    return NULL;
}

/* Forward x (n, d) in chunks of the net's batch; copy the loss layer's
 * output into r (n, d). */
static void forward_all(cn_net *net, const cn_tensor *y, const float *x, float *r, int n,
                        size_t d)
{
    int batch = cn_net_batch(net);
    cn_net_set_train(net, 0);
    for (int s0 = 0; s0 < n; s0 += batch) {
        int m = CN_MIN(batch, n - s0);
        cn_net_set_batch(net, x + (size_t)s0 * d, NULL, m);
        cn_net_forward(net);
        memcpy(r + (size_t)s0 * d, y->data, (size_t)m * d * sizeof *r);
    }
}

/* Inputs x and reconstructions r, (n, c*h*w) each, in bands of pairs. */
static cn_status draw_pairs(const float *x, const float *r, int n, int c, int h, int w,
                            const char *path, cn_error *err)
{
    size_t d = (size_t)c * h * w;
    float lo, hi, lo_r, hi_r;
    cn_min_max(x, (size_t)n * d, &lo, &hi);
    cn_min_max(r, (size_t)n * d, &lo_r, &hi_r);
    lo = fminf(lo, lo_r), hi = fmaxf(hi, hi_r);
    int cols = CN_MIN(n, CN_VIS_RECON_COLS), bands = (n + cols - 1) / cols;
    int s = cn_tile_scale(h, w), tw = w * s, th = h * s, band_h = 2 * th + 1;
    cn_canvas cv;
    cn_status rc = cn_canvas_init(&cv, cols * tw + cols - 1,
                                  bands * band_h + (bands - 1) * BAND_GAP, err);
    if (rc)
        return rc;
    for (int i = 0; i < n; i++) {
        int x0 = i % cols * (tw + 1), y0 = i / cols * (band_h + BAND_GAP);
        cn_put_tile(&cv, x0, y0, x + (size_t)i * d, c, h, w, s, lo, hi);
        cn_put_tile(&cv, x0, y0 + th + 1, r + (size_t)i * d, c, h, w, s, lo, hi);
    }
    return cn_canvas_write(&cv, path, err);
}

cn_status cn_vis_reconstructions(cn_net *net, const cn_dataset *ds, int n, const char *path,
                                 cn_error *err)
{
    const cn_loss *loss = cn_vis_recon_loss(net);
    if (!loss)
        return cn_errorf(err, CN_ERR_CFG, "%s: no loss has target=input, so the network "
                         "reconstructs nothing to draw", cn_net_name(net));
    size_t d = (size_t)ds->c * ds->h * ds->w;
    const cn_tensor *y = &loss->layer->out;
    if (d != cn_net_input_size(net) || cn_tensor_sample(y) != d)
        return cn_errorf(err, CN_ERR_SHAPE, "%s: samples of %s have %zu values, the network "
                         "input %zu and the output of '%s' %zu; expected all equal",
                         cn_net_name(net), ds->source, d, cn_net_input_size(net),
                         loss->layer->name, cn_tensor_sample(y));
    n = CN_MIN(n, ds->n);
    if (n < 1)
        return cn_errorf(err, CN_ERR_FORMAT, "%s: no samples to reconstruct", ds->source);
    float *x = malloc((size_t)n * d * sizeof *x), *r = malloc((size_t)n * d * sizeof *r);
    cn_status rc = CN_OK;
    if (!x || !r) {
        rc = cn_errorf(err, CN_ERR_NOMEM, "out of memory for %d reconstructions", n);
    } else {
        for (int i = 0; i < n; i++)
            cn_dataset_sample(ds, i, x + (size_t)i * d);
        forward_all(net, y, x, r, n, d);
        rc = draw_pairs(x, r, n, ds->c, ds->h, ds->w, path, err);
    }
    free(x);
    free(r);
    return rc;
}

/* ---- learning curves ---- */

/* Index of column `name` in a csv header line, or -1. */
static int column(const char *header, const char *name)
{
    size_t n = strlen(name);
    const char *p = header;
    for (int i = 0; p; i++) {
        if (!strncmp(p, name, n) && (p[n] == ',' || p[n] == '\n' || p[n] == '\r' || !p[n]))
            return i;
        if ((p = strchr(p, ',')))
            p++;
    }
    return -1;
}

/* Field i of a csv line as a number; NAN when missing or not a number. */
static double field(const char *line, int i)
{
    const char *p = line;
    while (i-- > 0 && p)
        if ((p = strchr(p, ',')))
            p++;
    if (!p)
        return NAN;
    char *end;
    double v = strtod(p, &end);
    return end == p ? NAN : v;
}

/* s as a gnuplot single-quoted string (a quote inside is doubled). */
static void gp_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputc('\'', f);
        fputc(*s, f);
    }
    fputc('\'', f);
}

/* The columns of a log.csv header (names cut at 47 characters). */
enum { MAX_COLS = 64, NAME_LEN = 48 };
typedef struct columns {
    char name[MAX_COLS][NAME_LEN];
    int n;
} columns;

static void split_header(const char *line, columns *c)
{
    c->n = 0;
    for (const char *p = line; p && *p && *p != '\n' && *p != '\r' && c->n < MAX_COLS;) {
        size_t len = strcspn(p, ",\r\n");
        snprintf(c->name[c->n++], NAME_LEN, "%.*s", (int)CN_MIN(len, NAME_LEN - 1), p);
        p = p[len] == ',' ? p + len + 1 : NULL;
    }
}

/* The panel a column is drawn in: 0 losses (train_loss, each loss term
 * between it and valid_loss, valid_loss), 1 validation metrics (valid_*),
 * 2 the learning rate; -1 not drawn (epoch, step, seconds, samples/s). */
static int panel_of(const columns *c, int i)
{
    int train = -1, valid = -1;
    for (int j = 0; j < c->n; j++) {
        if (!strcmp(c->name[j], "train_loss"))
            train = j;
        if (!strcmp(c->name[j], "valid_loss"))
            valid = j;
    }
    const char *n = c->name[i];
    if (i == train || i == valid || (train >= 0 && valid > train && i > train && i < valid))
        return 0;
    if (!strncmp(n, "valid_", 6))
        return 1;
    if (!strcmp(n, "lr"))
        return 2;
    return -1;
}

/* The gnuplot script drawing log_csv into png_name: the data inline as a
 * datablock (epoch, then every drawn column; '?' = missing), one panel each
 * for the losses, the validation metrics and the learning rate that the log
 * has; a column no epoch has a value in is left out. */
static cn_status write_script(const char *log_csv, FILE *gp, const char *png_name,
                              cn_error *err)
{
    FILE *f;
    cn_status st = cn_file_fopen(log_csv, "a log.csv", LOG_MAX_BYTES, &f, err);
    if (st)
        return st;
    char *line = NULL;
    size_t cap = 0;
    columns c = {.n = 0};
    int c_epoch = -1, c_train = -1, rows = 0, seen[MAX_COLS] = {0};
    if (getline(&line, &cap, f) > 0) {
        split_header(line, &c);
        c_epoch = column(line, "epoch");
        c_train = column(line, "train_loss");
    }
    fputs("# learning curves drawn by `cnet visualize`; run `gnuplot` on this file in its "
          "folder\nif (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n", gp);
    fprintf(gp, "    set terminal pngcairo size %d,%d noenhanced\n} else {\n    set terminal png "
            "size %d,%d noenhanced\n}\nset output ", CN_VIS_CURVES_WIDTH, CN_VIS_CURVES_HEIGHT,
            CN_VIS_CURVES_WIDTH, CN_VIS_CURVES_HEIGHT);
    gp_quote(gp, png_name);
    fputs("\nset grid\nset datafile missing '?'\n$log << EOD\n", gp);
    while (c_epoch >= 0 && c_train >= 0 && getline(&line, &cap, f) > 0) {
        double e = field(line, c_epoch);
        if (!isfinite(e))
            continue;
        fprintf(gp, "%g", e);
        for (int i = 0; i < c.n; i++) {
            if (panel_of(&c, i) < 0)
                continue;
            double v = field(line, i);
            fprintf(gp, isfinite(v) ? " %.9g" : " ?", v);
            seen[i] |= isfinite(v) != 0;
        }
        fputc('\n', gp);
        rows++;
    }
    free(line);
    fclose(f);
    if (c_epoch < 0 || c_train < 0)
        return cn_errorf(err, CN_ERR_FORMAT, "%s: expected a header with 'epoch' and "
                         "'train_loss' columns (a log.csv of cnet train)", log_csv);
    if (!rows)
        return cn_errorf(err, CN_ERR_FORMAT, "%s: no epoch logged yet", log_csv);
    static const char *const ylabel[3] = {"loss", "validation metric", "learning rate"};
    int panels = 0, has[3] = {0};
    for (int i = 0; i < c.n; i++)
        if (panel_of(&c, i) >= 0 && seen[i])
            has[panel_of(&c, i)] = 1;
    panels = has[0] + has[1] + has[2];
    /* whole epochs on the x axis, about ten tics */
    fprintf(gp, "EOD\nset xtics %d\nset multiplot layout %d,1 title ", CN_MAX(1, (rows + 9) / 10),
            panels);
    gp_quote(gp, log_csv);
    for (int p = 0; p < 3; p++) {
        if (!has[p])
            continue;
        fprintf(gp, "\nset xlabel 'epoch'\nset ylabel '%s'\nplot ", ylabel[p]);
        int first = 1;
        for (int i = 0, col = 2; i < c.n; i++) {
            int q = panel_of(&c, i);
            if (q < 0)
                continue;
            if (q == p && seen[i]) {
                fprintf(gp, "%s$log using 1:%d with linespoints title ", first ? "" : ", ", col);
                gp_quote(gp, c.name[i]);
                first = 0;
            }
            col++;
        }
    }
    fputs("\nunset multiplot\n", gp);
    return CN_OK;
}

cn_status cn_vis_curves_script(const char *log_csv, const char *gp_path, const char *png_name,
                               cn_error *err)
{
    FILE *f = fopen(gp_path, "w");
    if (!f)
        return cn_errorf(err, CN_ERR_IO, "%s: cannot write: %s", gp_path, strerror(errno));
    cn_status rc = write_script(log_csv, f, png_name, err);
    if (fclose(f) != 0 && !rc)
        rc = cn_errorf(err, CN_ERR_IO, "%s: cannot write: %s", gp_path, strerror(errno));
    if (rc)
        remove(gp_path); /* no half script for a later gnuplot run */
    return rc;
}
