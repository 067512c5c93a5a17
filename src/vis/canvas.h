/* canvas.h - RGB pictures drawn as grids of image tiles and written as PNG
 * (src/vis/canvas.c), shared by the pictures of visualize.c and samples.c.
 * Internal to src/vis/.
 */
#ifndef CNET_CANVAS_H
#define CNET_CANVAS_H

#include "cnet/cnet.h"
#include "internal.h"

/* An RGB picture being drawn. */
typedef struct cn_canvas {
    int w, h;
    unsigned char *rgb; /* (h, w, 3) */
} cn_canvas;

/* A w x h picture filled with the separator colour (blue-gray, which no
 * gray tile uses). */
cn_status cn_canvas_init(cn_canvas *cv, int w, int h, cn_error *err);
/* Write the canvas as a PNG and free it. */
cn_status cn_canvas_write(cn_canvas *cv, const char *path, cn_error *err);
/* Integer scale that brings an h x w image's smaller side to at least
 * CN_VIS_MIN_TILE, without taking its larger side past 256 pixels. */
int cn_tile_scale(int h, int w);
/* Smallest and largest of x[0..n). */
void cn_min_max(const float *x, size_t n, float *lo, float *hi);
/* Draw a C x H x W image at (x0, y0), scaled by s, mapping [lo, hi] to
 * [0, 255] (a constant image is mid-gray); C = 3 is RGB, other C show the
 * first channel. */
void cn_put_tile(cn_canvas *cv, int x0, int y0, const float *img, int c, int h, int w, int s,
                 float lo, float hi);

#endif
