/* plot.c - points as lines: the gnuplot script of `cnet plot` (see
 * visualize.h). The input is a small CSV written by a script, such as
 * scripts/rate_curve.sh's reconstruction error against code bits:
 *
 *   model,bits per code,test RMSE      a header: the series, x and y names
 *   PCA K=50,41.5,0.0902               then one point a line
 *
 * Each series becomes a datablock of its points sorted by x, drawn with
 * lines and points in the order the series first appear. As in visualize.c,
 * the library writes the script and the command line runs gnuplot.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "canvas.h"

#define POINTS_MAX_BYTES ((uint64_t)16 << 20)
enum { MAX_SERIES = 32, MAX_POINTS = 65536, NAME_LEN = 64, PLOT_W = 900, PLOT_H = 650 };

typedef struct point {
    int series;
    double x, y;
} point;

typedef struct points {
    char head[3][NAME_LEN];          /* series, x and y names */
    char series[MAX_SERIES][NAME_LEN];
    int n_series, n;
    point *p;                        /* (n) */
} points;

/* Split line (newline cut) at commas into exactly 3 fields; 0 if not 3. */
static int fields(char *line, char *f[3])
{
    line[strcspn(line, "\r\n")] = 0;
    f[0] = line;
    for (int i = 1; i < 3; i++) {
        char *c = strchr(f[i - 1], ',');
        if (!c)
            return 0;
        *c = 0;
        f[i] = c + 1;
    }
    return !strchr(f[2], ',');
}

/* s as a finite number; 0 when it is not one. */
static int number(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    while (*end == ' ')
        end++;
    return end != s && !*end && isfinite(*v);
}

/* One point line (number lineno of csv) into pts. */
static cn_status add_point(points *pts, char *line, const char *csv, int lineno, cn_error *err)
{
    char copy[81], *f[3];
    double x, y;
    snprintf(copy, sizeof copy, "%.*s", (int)strcspn(line, "\r\n"), line);
    if (!fields(line, f) || !*f[0] || !number(f[1], &x) || !number(f[2], &y))
        return cn_errorf(err, CN_ERR_FORMAT, "%s:%d: expected series,x,y with numbers x and y, "
                         "got '%s'", csv, lineno, copy);
    int s = 0;
    while (s < pts->n_series && strncmp(pts->series[s], f[0], NAME_LEN - 1))
        s++;
    if (s == MAX_SERIES)
        return cn_errorf(err, CN_ERR_FORMAT, "%s:%d: more than %d series", csv, lineno,
                         MAX_SERIES);
    if (s == pts->n_series)
        snprintf(pts->series[pts->n_series++], NAME_LEN, "%s", f[0]);
    if (pts->n == MAX_POINTS)
        return cn_errorf(err, CN_ERR_FORMAT, "%s:%d: more than %d points", csv, lineno,
                         MAX_POINTS);
    pts->p[pts->n++] = (point){s, x, y};
    return CN_OK;
}

static cn_status read_points(const char *csv, points *pts, cn_error *err)
{
    FILE *f;
    cn_status rc = cn_file_fopen(csv, "a points CSV", POINTS_MAX_BYTES, &f, err);
    if (rc)
        return rc;
    char *line = NULL, *h[3];
    size_t cap = 0;
    int lineno = 1;
    if (getline(&line, &cap, f) <= 0 || !fields(line, h) || !*h[0] || !*h[1] || !*h[2]) {
        rc = cn_errorf(err, CN_ERR_FORMAT, "%s:1: expected a header of three names: series,x,y",
                       csv);
    } else {
        for (int i = 0; i < 3; i++)
            snprintf(pts->head[i], NAME_LEN, "%s", h[i]);
        while (!rc && getline(&line, &cap, f) > 0) {
            lineno++;
            if (line[strspn(line, " \r\n")]) /* blank lines are skipped */
                rc = add_point(pts, line, csv, lineno, err);
        }
        if (!rc && !pts->n)
            rc = cn_errorf(err, CN_ERR_FORMAT, "%s: no points (expected lines of series,x,y "
                           "after the header)", csv);
    }
    free(line);
    fclose(f);
    return rc;
}

/* Points by series, then x. */
static int by_series_x(const void *a, const void *b)
{
    const point *p = a, *q = b;
    if (p->series != q->series)
        return p->series - q->series;
    return (p->x > q->x) - (p->x < q->x);
}

/* s as a gnuplot single-quoted string (a quote inside is doubled). */
static void quoted(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputc('\'', f);
        fputc(*s, f);
    }
    fputc('\'', f);
}

/* "set logscale x 2" when the values v of pts (x or y) are all positive and
 * span a decade or more, so that no small value is crushed against the axis. */
static void log_axis(FILE *gp, const points *pts, int y, const char *axis)
{
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < pts->n; i++) {
        double v = y ? pts->p[i].y : pts->p[i].x;
        lo = fmin(lo, v), hi = fmax(hi, v);
    }
    if (lo > 0.0 && hi >= 10.0 * lo)
        fprintf(gp, "\nset logscale %s 2", axis);
}

static void write_script(const points *pts, const char *csv, FILE *gp, const char *png_name)
{
    fputs("# points drawn by `cnet plot`; run `gnuplot` on this file in its folder\n"
          "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n", gp);
    fprintf(gp, "    set terminal pngcairo size %d,%d noenhanced\n} else {\n    set terminal "
            "png size %d,%d noenhanced\n}\nset output ", PLOT_W, PLOT_H, PLOT_W, PLOT_H);
    quoted(gp, png_name);
    fputs("\nset grid\nset key outside right top\nset title ", gp);
    quoted(gp, csv);
    fputs("\nset xlabel ", gp);
    quoted(gp, pts->head[1]);
    fputs("\nset ylabel ", gp);
    quoted(gp, pts->head[2]);
    log_axis(gp, pts, 0, "x");
    log_axis(gp, pts, 1, "y");
    for (int s = 0, i = 0; s < pts->n_series; s++) {
        fprintf(gp, "\n$s%d << EOD\n", s);
        for (; i < pts->n && pts->p[i].series == s; i++)
            fprintf(gp, "%.9g %.9g\n", pts->p[i].x, pts->p[i].y);
        fputs("EOD", gp);
    }
    fputs("\nplot ", gp);
    for (int s = 0; s < pts->n_series; s++) {
        fprintf(gp, "%s$s%d using 1:2 with linespoints title ", s ? ", " : "", s);
        quoted(gp, pts->series[s]);
    }
    fputc('\n', gp);
}

cn_status cn_vis_points_script(const char *csv, const char *gp_path, const char *png_name,
                               cn_error *err)
{
    points *pts = calloc(1, sizeof *pts);
    if (!pts || !(pts->p = malloc(MAX_POINTS * sizeof *pts->p))) {
        free(pts);
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory for the points of %s", csv);
    }
    cn_status rc = read_points(csv, pts, err);
    FILE *f = NULL;
    if (!rc && !(f = fopen(gp_path, "w")))
        rc = cn_errorf(err, CN_ERR_IO, "%s: cannot write: %s", gp_path, strerror(errno));
    if (!rc) {
        qsort(pts->p, (size_t)pts->n, sizeof *pts->p, by_series_x);
        write_script(pts, csv, f, png_name);
        if (fclose(f) != 0) {
            rc = cn_errorf(err, CN_ERR_IO, "%s: cannot write: %s", gp_path, strerror(errno));
            remove(gp_path); /* no half script for a later gnuplot run */
        }
    }
    free(pts->p);
    free(pts);
    return rc;
}
