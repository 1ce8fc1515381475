/* utf8.c: UTF-8 validation and decoding, and the White_Space property. */
#include "wb_priv.h"

int
wb_utf8_seqlen(const unsigned char *s, size_t len)
{
	unsigned char b = s[0], lo = 0x80, hi = 0xBF;
	int n;

	if (b < 0x80)
		return 1;
	if (b < 0xC2)
		return 0;
	if (b < 0xE0) {
		n = 2;
	} else if (b < 0xF0) {
		n = 3;
		if (b == 0xE0)
			lo = 0xA0;      /* overlong */
		else if (b == 0xED)
			hi = 0x9F;      /* surrogates */
	} else if (b < 0xF5) {
		n = 4;
		if (b == 0xF0)
			lo = 0x90;      /* overlong */
		else if (b == 0xF4)
			hi = 0x8F;      /* above U+10FFFF */
	} else {
		return 0;
	}
	if (len < 2)
		return -1;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (int i = 2; i < n; i++) {
		if ((size_t)i >= len)
			return -1;
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	}
	return n;
}

/* The length of the longest prefix of s[0..len) that is whole UTF-8: a
 * caller that needs a message writes its own. */
size_t
wb_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	int n;

	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		n = wb_utf8_seqlen(p + i, len - i);
		if (n <= 0)
			return i;
		i += (size_t)n;
	}
	return len;
}

size_t
wb_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	(void)len;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] < 0xE0) {
		*cp = (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
		return 2;
	}
	if (s[0] < 0xF0) {
		*cp = (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 |
		    (s[2] & 0x3F);
		return 3;
	}
	*cp = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
	    (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
	return 4;
}

bool
wb_is_space(uint32_t cp)
{
	if (cp < 0x80)
		return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20;
	switch (cp) {
	case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
	case 0x202F: case 0x205F: case 0x3000:
		return true;
	}
	return cp >= 0x2000 && cp <= 0x200A;
}
