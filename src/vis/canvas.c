/* canvas.c - RGB pictures as grids of image tiles, written as PNG through
 * stb_image_write (see canvas.h). Tiles are drawn with nearest-neighbour
 * scaling; values map linearly from [lo, hi] to [0, 255], clamped.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <stb/stb_image_write.h>

#include "canvas.h"

static const unsigned char sep_rgb[3] = {70, 90, 130};

cn_status cn_canvas_init(cn_canvas *cv, int w, int h, cn_error *err)
{
    cv->w = w, cv->h = h;
    cv->rgb = malloc((size_t)w * h * 3);
    if (!cv->rgb)
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory for a %dx%d picture", w, h);
    for (size_t i = 0; i < (size_t)w * h; i++)
        memcpy(cv->rgb + 3 * i, sep_rgb, 3);
    return CN_OK;
}

cn_status cn_canvas_write(cn_canvas *cv, const char *path, cn_error *err)
{
    errno = 0;
    int ok = stbi_write_png(path, cv->w, cv->h, 3, cv->rgb, cv->w * 3);
    free(cv->rgb);
    cv->rgb = NULL;
    if (!ok)
        return cn_errorf(err, CN_ERR_IO, "%s: cannot write PNG: %s", path,
                         errno ? strerror(errno) : "stb_image_write failed");
    return CN_OK;
}

int cn_tile_scale(int h, int w)
{
    int lo = CN_MIN(h, w), hi = CN_MAX(h, w);
    int s = (CN_VIS_MIN_TILE + lo - 1) / lo;
    if (s * hi > 256)
        s = CN_MAX(1, 256 / hi);
    return s;
}

void cn_min_max(const float *x, size_t n, float *lo, float *hi)
{
    *lo = INFINITY, *hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        *lo = fminf(*lo, x[i]);
        *hi = fmaxf(*hi, x[i]);
    }
}

void cn_put_tile(cn_canvas *cv, int x0, int y0, const float *img, int c, int h, int w, int s,
                 float lo, float hi)
{
    float k = hi > lo ? 255.0f / (hi - lo) : 0.0f;
    size_t plane = (size_t)h * w;
    for (int y = 0; y < h * s; y++)
        for (int x = 0; x < w * s; x++) {
            size_t at = (size_t)(y / s) * w + x / s;
            unsigned char *px = cv->rgb + 3 * ((size_t)(y0 + y) * cv->w + x0 + x);
            for (int ch = 0; ch < 3; ch++) {
                float v = img[(c == 3 ? ch * plane : 0) + at];
                float u = hi > lo ? (v - lo) * k : 127.5f;
                px[ch] = (unsigned char)lrintf(fminf(fmaxf(u, 0.0f), 255.0f));
            }
        }
}
