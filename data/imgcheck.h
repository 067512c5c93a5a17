/* imgcheck.h - what data/imgdir.c checks before handing a file to stb_image
 * (data/imgcheck.c). Internal to data/.
 */
#ifndef CNET_DATA_IMGCHECK_H
#define CNET_DATA_IMGCHECK_H

#include <stddef.h>

/* "PNG", "JPEG" or "BMP", by the signature at the start of b, else NULL. */
const char *cn_img_format(const unsigned char *b, size_t n);

/* NULL when the n bytes b are a PNG, JPEG or BMP file that stb_image may
 * decode, else why not (a constant string). */
const char *cn_img_check(const unsigned char *b, size_t n);

#endif
