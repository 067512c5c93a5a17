/* imgcheck.c - the checks an image file passes before stb_image sees it.
 *
 * stb_image sniffs the format from the content, so any format it knows
 * (GIF, PSD, TGA, PIC, PNM, HDR) would be decoded from a file named .png.
 * cnet reads PNG, JPEG and BMP, recognised by their signatures, and turns
 * the rest away. The version Debian ships (2.27) also trusts what a file
 * declares in ways these checks rule out first:
 *   - PNG: each chunk's length. stb_image grows its IDAT buffer to the
 *     declared size before reading, so a 100-byte file could ask for 2 GiB:
 *     every chunk up to IEND must fit in the file.
 *   - JPEG: the code counts of a Huffman table (DHT). With more than 256
 *     codes stb_image writes past its tables (fixed upstream in 2.28).
 *   - JPEG: the tables a scan or the frame uses. stb_image does not clear
 *     them, so a Huffman or quantization table no DHT or DQT segment defined
 *     is read from leftover heap memory (and can trip stb's assertions,
 *     aborting cnet): each must be defined before it is used.
 * The JPEG segments are walked as stb_image walks them: by their lengths,
 * resyncing on 0xFF, skipping the entropy-coded data after SOS.
 */
#include <string.h>

#include "imgcheck.h"

/* Every PNG chunk (length, type, data, CRC) up to IEND fits in the file. */
static const char *png_chunks(const unsigned char *b, size_t n)
{
    for (size_t p = 8; p + 8 <= n;) {
        size_t len = (size_t)b[p] << 24 | (size_t)b[p + 1] << 16 | (size_t)b[p + 2] << 8 |
                     b[p + 3];
        if (len > n - p - 8)
            return "corrupt PNG: a chunk longer than the rest of the file";
        if (!memcmp(b + p + 4, "IEND", 4))
            break;
        p += 12 + len;
    }
    return NULL;
}

/* Skip a JPEG scan's entropy-coded data from i: up to the next marker, an
 * 0xFF (after fill 0xFFs) followed by neither a stuffed 0x00 nor a restart. */
static size_t skip_scan(const unsigned char *b, size_t n, size_t i)
{
    while (i < n) {
        if (b[i++] != 0xff)
            continue;
        size_t j = i;
        while (j < n && b[j] == 0xff)
            j++;
        if (j < n && b[j] != 0 && (b[j] < 0xd0 || b[j] > 0xd7))
            return i - 1;
        i = j + 1;
    }
    return n;
}

/* Byte i, or 0 past the end (what stb_image reads there). */
static unsigned byte_at(const unsigned char *b, size_t n, size_t i)
{
    return i < n ? b[i] : 0;
}

/* The tables a JPEG has defined so far and those its frame uses. */
typedef struct jpeg_tables {
    unsigned huff;  /* bit 4 * class + id: Huffman tables defined (class 0 DC, 1 AC) */
    unsigned quant; /* bit id: quantization tables defined */
    unsigned uses;  /* bit id: quantization tables the frame's components use */
    int progressive;
} jpeg_tables;

/* DHT at p (len bytes with the length): tables of a class/id byte, 16 code
 * counts and the codes, as long as the declared length lasts (stb reads them
 * past it, too). More than 256 codes and stb writes past its arrays. */
static const char *jpeg_dht(const unsigned char *b, size_t n, size_t p, size_t len,
                            jpeg_tables *t)
{
    for (long left = (long)len - 2; left > 0;) {
        unsigned q = byte_at(b, n, p), codes = 0;
        for (size_t k = p + 1; k <= p + 16; k++)
            codes += byte_at(b, n, k);
        if (codes > 256)
            return "corrupt JPEG: a Huffman table of more than 256 codes";
        if (q >> 4 <= 1 && (q & 15) <= 3)
            t->huff |= 1u << (4 * (q >> 4) + (q & 15));
        p += 17 + codes;
        left -= 17 + (long)codes;
    }
    return NULL;
}

/* DQT at p: tables of a precision/id byte and 64 values of 1 or 2 bytes. */
static void jpeg_dqt(const unsigned char *b, size_t n, size_t p, size_t len, jpeg_tables *t)
{
    for (long left = (long)len - 2; left > 0;) {
        unsigned q = byte_at(b, n, p);
        if (q >> 4 > 1 || (q & 15) > 3) /* stb_image stops here */
            break;
        t->quant |= 1u << (q & 15);
        p += q >> 4 ? 129 : 65;
        left -= q >> 4 ? 129 : 65;
    }
}

/* SOS at p: each component names a DC and an AC Huffman table. stb_image
 * uses both in a baseline scan; in a progressive one the DC table in a first
 * DC scan and the AC table in an AC scan. A table no DHT defined is read from
 * uninitialised memory (and may trip stb's assertions: an abort). */
static const char *jpeg_sos(const unsigned char *b, size_t n, size_t p, const jpeg_tables *t)
{
    unsigned ns = byte_at(b, n, p), ss = byte_at(b, n, p + 1 + 2 * ns);
    int dc = !t->progressive || (ss == 0 && byte_at(b, n, p + 3 + 2 * ns) >> 4 == 0);
    int ac = !t->progressive || ss != 0;
    for (unsigned k = 0; k < ns; k++) {
        unsigned sel = byte_at(b, n, p + 2 + 2 * k), td = sel >> 4, ta = sel & 15;
        if ((dc && td <= 3 && !(t->huff >> td & 1)) ||
            (ac && ta <= 3 && !(t->huff >> (4 + ta) & 1)))
            return "corrupt JPEG: a scan uses a Huffman table no DHT segment defines";
    }
    if (!t->progressive && (t->uses & ~t->quant))
        return "corrupt JPEG: the frame uses a quantization table no DQT segment defines";
    return NULL;
}

/* Walk the JPEG segments as stb_image does (by their lengths, resyncing on
 * 0xFF, skipping the entropy-coded data after SOS) and check the tables. */
static const char *jpeg(const unsigned char *b, size_t n)
{
    jpeg_tables t = {0};
    const char *why = NULL;
    for (size_t i = 2; i < n && !why;) {
        if (b[i] != 0xff) {
            i++;
            continue;
        }
        while (i < n && b[i] == 0xff)
            i++;
        if (i + 2 >= n || b[i] == 0xd9) /* the end, or EOI */
            break;
        unsigned m = b[i++];
        if (m == 0 || m == 1 || (m >= 0xd0 && m <= 0xd8)) /* markers without a segment */
            continue;
        size_t len = (size_t)b[i] << 8 | b[i + 1], p = i + 2;
        if (m == 0xc4) {
            why = jpeg_dht(b, n, p, len, &t);
        } else if (m == 0xdb) {
            jpeg_dqt(b, n, p, len, &t);
        } else if (m >= 0xc0 && m <= 0xc2) { /* SOF: each component names its DQT table */
            t.progressive = m == 0xc2;
            for (unsigned k = 0; k < byte_at(b, n, p + 5) && k < 4; k++)
                if (byte_at(b, n, p + 8 + 3 * k) <= 3)
                    t.uses |= 1u << byte_at(b, n, p + 8 + 3 * k);
        } else if (m == 0xda) {
            why = jpeg_sos(b, n, p, &t);
        }
        i += len;
        if (m == 0xda) /* its scan data follows */
            i = skip_scan(b, n, i);
    }
    /* a progressive image is dequantized once all its scans are read */
    if (!why && t.progressive && (t.uses & ~t.quant))
        why = "corrupt JPEG: the frame uses a quantization table no DQT segment defines";
    return why;
}

const char *cn_img_format(const unsigned char *b, size_t n)
{
    if (n >= 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8))
        return "PNG";
    if (n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff)
        return "JPEG";
    if (n >= 2 && !memcmp(b, "BM", 2))
        return "BMP";
    return NULL;
}

const char *cn_img_check(const unsigned char *b, size_t n)
{
    const char *fmt = cn_img_format(b, n);
    if (!fmt)
        return "not a PNG, JPEG or BMP file";
    return fmt[0] == 'P' ? png_chunks(b, n) : fmt[0] == 'J' ? jpeg(b, n) : NULL;
}
