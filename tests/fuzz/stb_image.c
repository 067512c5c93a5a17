/* stb_image.c - stb_image compiled into fuzz_imgdir, instrumented for coverage
 * and AddressSanitizer (the library links the uninstrumented libstb, whose
 * definitions these replace in the harness). Built without UBSan but with
 * its array-bounds check (see the Makefile): undefined behaviour inside
 * stb_image that is not a memory error is upstream's, not a finding of
 * cnet's decode path, while any out-of-bounds access still stops the run.
 */
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
