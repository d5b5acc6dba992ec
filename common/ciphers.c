/* ciphers.c - OpenSSL cipher strings (Node's "ciphers") to GnuTLS priorities.
 *
 * How a string is read (OpenSSL's cipher list format, as Node uses it):
 *
 * - Tokens are separated by ':', ',' or ' '. A token is one or more elements
 *   joined by '+' (all must hold), optionally prefixed by '!' (remove for
 *   good), '-' (remove; a later token may add it back) or '+' (move to the
 *   end). An element is a suite name or an alias (HIGH, kECDHE, AESGCM...).
 *   "@STRENGTH" sorts by key length; "@SECLEVEL=n" is accepted and ignored.
 * - The list starts as every suite in the table, inactive, in OpenSSL 3's
 *   default order; a plain token activates the matching suites at the end of
 *   the list, so aliases expand in OpenSSL's own order.
 * - "DEFAULT" is an alias (OpenSSL 3's DEFAULT set: ALL less CCM, CCM_8 and
 *   anonymous suites) wherever it stands; OpenSSL honours it only first and
 *   there also removes those suites for good. Checked against "openssl
 *   ciphers" 3.0: the TLS 1.2 expansions match, order included, for Node's
 *   default, HIGH, ALL, DEFAULT, aliases joined with '+', and '!', '-', '+'
 *   and @STRENGTH.
 * - Unknown elements are an error. OpenSSL skips them silently; tlsd refuses,
 *   so a typo cannot quietly weaken or empty the list. The two names Node's
 *   own default carries that name no suite (see phantom_names) are accepted.
 *
 * TLS 1.3, as Node does it (lib/internal/tls/secure-context.js, checked
 * against Node 20): tokens starting with "TLS_" are TLS 1.3 suites, which
 * only their full names select; aliases never touch them. When the string
 * names no TLS 1.3 suite, OpenSSL's default TLS 1.3 suites stay enabled
 * (TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256, TLS_AES_128_GCM_SHA256).
 * When the string has only TLS_ tokens, TLS 1.2 is off. When it has other
 * tokens but they select nothing, Node fails ("no cipher match"), and so does
 * tlsd. Beyond Node: "!TLS_..." and "-TLS_..." remove a TLS 1.3 suite.
 *
 * GnuTLS cannot list suites one by one: a priority enables every
 * kx x cipher x MAC combination that exists (TLS 1.3: cipher x AEAD). So the
 * kx, cipher and MAC names are listed in order of first appearance in the
 * expanded list, the combinations are modelled with the table, and then:
 * - a combination the string did not select but did not exclude either is
 *   tolerated (it is in the table, hence a suite tlsd allows);
 * - a combination the string excluded ('!', or '-' not re-added) is removed
 *   by dropping its MAC (unless AEAD) or else its cipher, whichever first
 *   spares every suite the string names in full (and the TLS 1.3 defaults
 *   kept when it names none) and leaves each enabled version a suite. A kx
 *   or AEAD is never dropped: that would take a whole certificate type or
 *   every modern suite with it. If neither will do, that is an error naming
 *   the excluded suite (e.g. "TLS_AES_128_CCM_SHA256:HIGH:!AESCCM": GnuTLS
 *   cannot offer AES-128-CCM in TLS 1.3 but not in TLS 1.2).
 * Finally the real library lists the priority's suites, and any suite outside
 * the table, never enabled, or excluded is an error (ciphers_verify_priority).
 *
 * Orders that cannot be reproduced: GnuTLS groups TLS 1.2 suites by kx, then
 * cipher, then MAC, and one cipher order serves TLS 1.2 and TLS 1.3 (taken
 * from first appearance, so Node's default puts AES-256-GCM before AES-128-GCM
 * in TLS 1.2 as well). Only the set and the coarse preference carry over.
 */
#include "common/ciphers.h"

#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char ciphers_node_default[] =
	"TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:"
	"ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:"
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES256-GCM-SHA384:"
	"DHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA256:DHE-RSA-AES128-SHA256:"
	"ECDHE-RSA-AES256-SHA384:DHE-RSA-AES256-SHA384:ECDHE-RSA-AES256-SHA256:"
	"DHE-RSA-AES256-SHA256:HIGH:!aNULL:!eNULL:!EXPORT:!DES:!RC4:!MD5:!PSK:!SRP:"
	"!CAMELLIA";

/* Attribute bits, one byte (or two) per category, as OpenSSL groups them:
 * an alias matches a suite when, in every category the alias names, the two
 * share a bit. */
#define CAT_KX 0x00000000000000ffULL
#define CAT_AU 0x000000000000ff00ULL
#define CAT_ENC 0x00000000ffff0000ULL
#define CAT_MAC 0x000000ff00000000ULL
#define CAT_VER 0x0000ff0000000000ULL
#define CAT_STR 0x00ff000000000000ULL
#define CAT_DEF 0x7f00000000000000ULL
#define CAT_NONE 0x8000000000000000ULL	/* no suite has it: families out of scope */

#define K_RSA (1ULL << 0)
#define K_DHE (1ULL << 1)
#define K_ECDHE (1ULL << 2)
#define A_RSA (1ULL << 8)
#define A_ECDSA (1ULL << 9)
#define A_NULL (1ULL << 10)
#define E_AES128 (1ULL << 16)	/* CBC */
#define E_AES256 (1ULL << 17)
#define E_GCM128 (1ULL << 18)
#define E_GCM256 (1ULL << 19)
#define E_CCM128 (1ULL << 20)
#define E_CCM256 (1ULL << 21)
#define E_CCM8_128 (1ULL << 22)
#define E_CCM8_256 (1ULL << 23)
#define E_CHACHA (1ULL << 24)
#define E_RC4 (1ULL << 25)
#define E_3DES (1ULL << 26)
#define E_DES (1ULL << 27)
#define E_NULL (1ULL << 28)
#define M_MD5 (1ULL << 32)
#define M_SHA1 (1ULL << 33)
#define M_SHA256 (1ULL << 34)
#define M_SHA384 (1ULL << 35)
#define M_AEAD (1ULL << 36)
#define V_SSL3 (1ULL << 40)	/* OpenSSL's minimum version of the suite */
#define V_TLS10 (1ULL << 41)
#define V_TLS12 (1ULL << 42)
#define S_HIGH (1ULL << 48)
#define S_MEDIUM (1ULL << 49)
#define S_LOW (1ULL << 50)
#define S_EXPORT (1ULL << 51)
#define D_DEF (1ULL << 56)	/* in OpenSSL 3's DEFAULT */
#define D_NOTDEF (1ULL << 57)	/* in COMPLEMENTOFDEFAULT */

#define AU_AUTH (A_RSA | A_ECDSA)
#define E_CCM (E_CCM128 | E_CCM256)
#define E_CCM8 (E_CCM8_128 | E_CCM8_256)
#define E_AES_128 (E_AES128 | E_GCM128 | E_CCM128 | E_CCM8_128)
#define E_AES_256 (E_AES256 | E_GCM256 | E_CCM256 | E_CCM8_256)
#define E_NOT_NULL (CAT_ENC & ~E_NULL)

/* Shorthands for the table: kx+auth, and cipher+MAC+version+strength. */
#define X_ECRSA (K_ECDHE | A_RSA)
#define X_ECDSA (K_ECDHE | A_ECDSA)
#define X_DHRSA (K_DHE | A_RSA)
#define X_RSA (K_RSA | A_RSA)
#define X_ADH (K_DHE | A_NULL)
#define X_AECDH (K_ECDHE | A_NULL)
#define C_AEAD (M_AEAD | V_TLS12 | S_HIGH)
#define C_GCM128 (E_GCM128 | C_AEAD | D_DEF)
#define C_GCM256 (E_GCM256 | C_AEAD | D_DEF)
#define C_CHACHA (E_CHACHA | C_AEAD | D_DEF)
#define C_CCM128 (E_CCM128 | C_AEAD | D_NOTDEF)
#define C_CCM256 (E_CCM256 | C_AEAD | D_NOTDEF)
#define C_CCM8_128 (E_CCM8_128 | C_AEAD | D_NOTDEF)
#define C_CCM8_256 (E_CCM8_256 | C_AEAD | D_NOTDEF)
#define C_128_256 (E_AES128 | M_SHA256 | V_TLS12 | S_HIGH | D_DEF)
#define C_256_256 (E_AES256 | M_SHA256 | V_TLS12 | S_HIGH | D_DEF)
#define C_256_384 (E_AES256 | M_SHA384 | V_TLS12 | S_HIGH | D_DEF)
#define C_128_SHA (E_AES128 | M_SHA1 | S_HIGH | D_DEF)	/* plus V_SSL3 or V_TLS10 */
#define C_256_SHA (E_AES256 | M_SHA1 | S_HIGH | D_DEF)
#define C_3DES (E_3DES | M_SHA1 | S_MEDIUM | D_DEF)
#define C_RC4 (E_RC4 | S_MEDIUM | D_DEF)	/* plus the MAC */
#define C_NULL (E_NULL | D_NOTDEF)		/* plus MAC and version */

enum { F_TLS13 = 1, F_NEVER = 2, F_DEF13 = 4 };

struct suite {
	const char *name;	/* OpenSSL name */
	uint8_t id[2];		/* IANA id */
	const char *kx;		/* GnuTLS priority names; kx NULL for TLS 1.3 */
	const char *cipher;
	const char *mac;
	uint64_t attrs;		/* alias attributes, see above */
	uint16_t bits;		/* symmetric key bits, for @STRENGTH */
	uint8_t flags;		/* F_TLS13: TLS 1.3; F_NEVER: named, never enabled;
				 * F_DEF13: in OpenSSL's default TLS 1.3 list */
};

#define S13(n, a, b, c, bits, f) { n, { a, b }, NULL, c, "AEAD", 0, bits, F_TLS13 | (f) }
#define S12(n, a, b, kx, c, m, attrs, bits) { n, { a, b }, kx, c, m, attrs, bits, 0 }
#define NEVER(n, a, b, attrs, bits) { n, { a, b }, NULL, NULL, NULL, attrs, bits, F_NEVER }

/* The suites, in OpenSSL 3's default order ("openssl ciphers -v ALL").
 * NEVER rows exist so their names are known tokens: RC4, 3DES, DES, export,
 * NULL and anonymous suites are never enabled whatever the string says, nor
 * are CCM_8 (8-byte tags) suites. */
static const struct suite suites[] = {
	S13("TLS_AES_256_GCM_SHA384", 0x13, 0x02, "AES-256-GCM", 256, F_DEF13),
	S13("TLS_CHACHA20_POLY1305_SHA256", 0x13, 0x03, "CHACHA20-POLY1305", 256, F_DEF13),
	S13("TLS_AES_128_GCM_SHA256", 0x13, 0x01, "AES-128-GCM", 128, F_DEF13),
	S13("TLS_AES_128_CCM_SHA256", 0x13, 0x04, "AES-128-CCM", 128, 0),
	{ "TLS_AES_128_CCM_8_SHA256", { 0x13, 0x05 }, NULL, NULL, NULL, 0, 128, F_TLS13 | F_NEVER },
	S12("ECDHE-ECDSA-AES256-GCM-SHA384", 0xc0, 0x2c, "ECDHE-ECDSA", "AES-256-GCM", "AEAD", X_ECDSA | C_GCM256, 256),
	S12("ECDHE-RSA-AES256-GCM-SHA384", 0xc0, 0x30, "ECDHE-RSA", "AES-256-GCM", "AEAD", X_ECRSA | C_GCM256, 256),
	S12("DHE-RSA-AES256-GCM-SHA384", 0x00, 0x9f, "DHE-RSA", "AES-256-GCM", "AEAD", X_DHRSA | C_GCM256, 256),
	S12("ECDHE-ECDSA-CHACHA20-POLY1305", 0xcc, 0xa9, "ECDHE-ECDSA", "CHACHA20-POLY1305", "AEAD", X_ECDSA | C_CHACHA, 256),
	S12("ECDHE-RSA-CHACHA20-POLY1305", 0xcc, 0xa8, "ECDHE-RSA", "CHACHA20-POLY1305", "AEAD", X_ECRSA | C_CHACHA, 256),
	S12("DHE-RSA-CHACHA20-POLY1305", 0xcc, 0xaa, "DHE-RSA", "CHACHA20-POLY1305", "AEAD", X_DHRSA | C_CHACHA, 256),
	NEVER("ECDHE-ECDSA-AES256-CCM8", 0xc0, 0xaf, X_ECDSA | C_CCM8_256, 256),
	S12("ECDHE-ECDSA-AES256-CCM", 0xc0, 0xad, "ECDHE-ECDSA", "AES-256-CCM", "AEAD", X_ECDSA | C_CCM256, 256),
	NEVER("DHE-RSA-AES256-CCM8", 0xc0, 0xa3, X_DHRSA | C_CCM8_256, 256),
	S12("DHE-RSA-AES256-CCM", 0xc0, 0x9f, "DHE-RSA", "AES-256-CCM", "AEAD", X_DHRSA | C_CCM256, 256),
	NEVER("ADH-AES256-GCM-SHA384", 0x00, 0xa7, X_ADH | E_GCM256 | C_AEAD | D_NOTDEF, 256),
	S12("ECDHE-ECDSA-AES128-GCM-SHA256", 0xc0, 0x2b, "ECDHE-ECDSA", "AES-128-GCM", "AEAD", X_ECDSA | C_GCM128, 128),
	S12("ECDHE-RSA-AES128-GCM-SHA256", 0xc0, 0x2f, "ECDHE-RSA", "AES-128-GCM", "AEAD", X_ECRSA | C_GCM128, 128),
	S12("DHE-RSA-AES128-GCM-SHA256", 0x00, 0x9e, "DHE-RSA", "AES-128-GCM", "AEAD", X_DHRSA | C_GCM128, 128),
	NEVER("ECDHE-ECDSA-AES128-CCM8", 0xc0, 0xae, X_ECDSA | C_CCM8_128, 128),
	S12("ECDHE-ECDSA-AES128-CCM", 0xc0, 0xac, "ECDHE-ECDSA", "AES-128-CCM", "AEAD", X_ECDSA | C_CCM128, 128),
	NEVER("DHE-RSA-AES128-CCM8", 0xc0, 0xa2, X_DHRSA | C_CCM8_128, 128),
	S12("DHE-RSA-AES128-CCM", 0xc0, 0x9e, "DHE-RSA", "AES-128-CCM", "AEAD", X_DHRSA | C_CCM128, 128),
	NEVER("ADH-AES128-GCM-SHA256", 0x00, 0xa6, X_ADH | E_GCM128 | C_AEAD | D_NOTDEF, 128),
	S12("ECDHE-ECDSA-AES256-SHA384", 0xc0, 0x24, "ECDHE-ECDSA", "AES-256-CBC", "SHA384", X_ECDSA | C_256_384, 256),
	S12("ECDHE-RSA-AES256-SHA384", 0xc0, 0x28, "ECDHE-RSA", "AES-256-CBC", "SHA384", X_ECRSA | C_256_384, 256),
	S12("DHE-RSA-AES256-SHA256", 0x00, 0x6b, "DHE-RSA", "AES-256-CBC", "SHA256", X_DHRSA | C_256_256, 256),
	NEVER("ADH-AES256-SHA256", 0x00, 0x6d, X_ADH | (C_256_256 & ~D_DEF) | D_NOTDEF, 256),
	S12("ECDHE-ECDSA-AES128-SHA256", 0xc0, 0x23, "ECDHE-ECDSA", "AES-128-CBC", "SHA256", X_ECDSA | C_128_256, 128),
	S12("ECDHE-RSA-AES128-SHA256", 0xc0, 0x27, "ECDHE-RSA", "AES-128-CBC", "SHA256", X_ECRSA | C_128_256, 128),
	S12("DHE-RSA-AES128-SHA256", 0x00, 0x67, "DHE-RSA", "AES-128-CBC", "SHA256", X_DHRSA | C_128_256, 128),
	NEVER("ADH-AES128-SHA256", 0x00, 0x6c, X_ADH | (C_128_256 & ~D_DEF) | D_NOTDEF, 128),
	S12("ECDHE-ECDSA-AES256-SHA", 0xc0, 0x0a, "ECDHE-ECDSA", "AES-256-CBC", "SHA1", X_ECDSA | C_256_SHA | V_TLS10, 256),
	S12("ECDHE-RSA-AES256-SHA", 0xc0, 0x14, "ECDHE-RSA", "AES-256-CBC", "SHA1", X_ECRSA | C_256_SHA | V_TLS10, 256),
	S12("DHE-RSA-AES256-SHA", 0x00, 0x39, "DHE-RSA", "AES-256-CBC", "SHA1", X_DHRSA | C_256_SHA | V_SSL3, 256),
	NEVER("AECDH-AES256-SHA", 0xc0, 0x19, X_AECDH | (C_256_SHA & ~D_DEF) | D_NOTDEF | V_TLS10, 256),
	NEVER("ADH-AES256-SHA", 0x00, 0x3a, X_ADH | (C_256_SHA & ~D_DEF) | D_NOTDEF | V_SSL3, 256),
	S12("ECDHE-ECDSA-AES128-SHA", 0xc0, 0x09, "ECDHE-ECDSA", "AES-128-CBC", "SHA1", X_ECDSA | C_128_SHA | V_TLS10, 128),
	S12("ECDHE-RSA-AES128-SHA", 0xc0, 0x13, "ECDHE-RSA", "AES-128-CBC", "SHA1", X_ECRSA | C_128_SHA | V_TLS10, 128),
	S12("DHE-RSA-AES128-SHA", 0x00, 0x33, "DHE-RSA", "AES-128-CBC", "SHA1", X_DHRSA | C_128_SHA | V_SSL3, 128),
	NEVER("AECDH-AES128-SHA", 0xc0, 0x18, X_AECDH | (C_128_SHA & ~D_DEF) | D_NOTDEF | V_TLS10, 128),
	NEVER("ADH-AES128-SHA", 0x00, 0x34, X_ADH | (C_128_SHA & ~D_DEF) | D_NOTDEF | V_SSL3, 128),
	S12("AES256-GCM-SHA384", 0x00, 0x9d, "RSA", "AES-256-GCM", "AEAD", X_RSA | C_GCM256, 256),
	NEVER("AES256-CCM8", 0xc0, 0xa1, X_RSA | C_CCM8_256, 256),
	S12("AES256-CCM", 0xc0, 0x9d, "RSA", "AES-256-CCM", "AEAD", X_RSA | C_CCM256, 256),
	S12("AES128-GCM-SHA256", 0x00, 0x9c, "RSA", "AES-128-GCM", "AEAD", X_RSA | C_GCM128, 128),
	NEVER("AES128-CCM8", 0xc0, 0xa0, X_RSA | C_CCM8_128, 128),
	S12("AES128-CCM", 0xc0, 0x9c, "RSA", "AES-128-CCM", "AEAD", X_RSA | C_CCM128, 128),
	S12("AES256-SHA256", 0x00, 0x3d, "RSA", "AES-256-CBC", "SHA256", X_RSA | C_256_256, 256),
	S12("AES128-SHA256", 0x00, 0x3c, "RSA", "AES-128-CBC", "SHA256", X_RSA | C_128_256, 128),
	S12("AES256-SHA", 0x00, 0x35, "RSA", "AES-256-CBC", "SHA1", X_RSA | C_256_SHA | V_SSL3, 256),
	S12("AES128-SHA", 0x00, 0x2f, "RSA", "AES-128-CBC", "SHA1", X_RSA | C_128_SHA | V_SSL3, 128),
	NEVER("ECDHE-ECDSA-NULL-SHA", 0xc0, 0x06, X_ECDSA | C_NULL | M_SHA1 | V_TLS10, 0),
	NEVER("ECDHE-RSA-NULL-SHA", 0xc0, 0x10, X_ECRSA | C_NULL | M_SHA1 | V_TLS10, 0),
	NEVER("AECDH-NULL-SHA", 0xc0, 0x15, X_AECDH | C_NULL | M_SHA1 | V_TLS10, 0),
	NEVER("NULL-SHA256", 0x00, 0x3b, X_RSA | C_NULL | M_SHA256 | V_TLS12, 0),
	NEVER("NULL-SHA", 0x00, 0x02, X_RSA | C_NULL | M_SHA1 | V_SSL3, 0),
	NEVER("NULL-MD5", 0x00, 0x01, X_RSA | C_NULL | M_MD5 | V_SSL3, 0),
	NEVER("ECDHE-ECDSA-DES-CBC3-SHA", 0xc0, 0x08, X_ECDSA | C_3DES | V_TLS10, 112),
	NEVER("ECDHE-RSA-DES-CBC3-SHA", 0xc0, 0x12, X_ECRSA | C_3DES | V_TLS10, 112),
	NEVER("DHE-RSA-DES-CBC3-SHA", 0x00, 0x16, X_DHRSA | C_3DES | V_SSL3, 112),
	NEVER("EDH-RSA-DES-CBC3-SHA", 0x00, 0x16, X_DHRSA | C_3DES | V_SSL3, 112),
	NEVER("DES-CBC3-SHA", 0x00, 0x0a, X_RSA | C_3DES | V_SSL3, 112),
	NEVER("AECDH-DES-CBC3-SHA", 0xc0, 0x17, X_AECDH | C_3DES | V_TLS10, 112),
	NEVER("ADH-DES-CBC3-SHA", 0x00, 0x1b, X_ADH | C_3DES | V_SSL3, 112),
	NEVER("ECDHE-ECDSA-RC4-SHA", 0xc0, 0x07, X_ECDSA | C_RC4 | M_SHA1 | V_TLS10, 128),
	NEVER("ECDHE-RSA-RC4-SHA", 0xc0, 0x11, X_ECRSA | C_RC4 | M_SHA1 | V_TLS10, 128),
	NEVER("AECDH-RC4-SHA", 0xc0, 0x16, X_AECDH | C_RC4 | M_SHA1 | V_TLS10, 128),
	NEVER("RC4-SHA", 0x00, 0x05, X_RSA | C_RC4 | M_SHA1 | V_SSL3, 128),
	NEVER("RC4-MD5", 0x00, 0x04, X_RSA | C_RC4 | M_MD5 | V_SSL3, 128),
	NEVER("ADH-RC4-MD5", 0x00, 0x18, X_ADH | C_RC4 | M_MD5 | V_SSL3, 128),
	NEVER("DES-CBC-SHA", 0x00, 0x09, X_RSA | E_DES | M_SHA1 | V_SSL3 | S_LOW | D_DEF, 56),
	NEVER("EDH-RSA-DES-CBC-SHA", 0x00, 0x15, X_DHRSA | E_DES | M_SHA1 | V_SSL3 | S_LOW | D_DEF, 56),
	NEVER("EXP-RC4-MD5", 0x00, 0x03, X_RSA | E_RC4 | M_MD5 | V_SSL3 | S_EXPORT | D_DEF, 40),
	NEVER("EXP-DES-CBC-SHA", 0x00, 0x08, X_RSA | E_DES | M_SHA1 | V_SSL3 | S_EXPORT | D_DEF, 40),
};

#define N_SUITES (sizeof(suites) / sizeof(suites[0]))

struct alias {
	const char *name;
	uint64_t bits;
};

/* OpenSSL's aliases (ciphers(1)). Those for families tlsd has no suite of
 * (PSK, SRP, DSS, CAMELLIA, ARIA...) are known and select nothing. */
static const struct alias aliases[] = {
	{ "ALL", E_NOT_NULL }, { "COMPLEMENTOFALL", E_NULL },
	{ "DEFAULT", E_NOT_NULL | D_DEF }, { "COMPLEMENTOFDEFAULT", D_NOTDEF },
	{ "HIGH", S_HIGH }, { "MEDIUM", S_MEDIUM }, { "LOW", S_LOW },
	{ "EXP", S_EXPORT }, { "EXPORT", S_EXPORT }, { "EXPORT40", S_EXPORT },
	{ "eNULL", E_NULL }, { "NULL", E_NULL }, { "aNULL", A_NULL },
	{ "kRSA", K_RSA }, { "RSA", K_RSA }, { "aRSA", A_RSA },
	{ "kDHE", K_DHE }, { "kEDH", K_DHE }, { "DH", K_DHE },
	{ "DHE", K_DHE | AU_AUTH }, { "EDH", K_DHE | AU_AUTH }, { "ADH", K_DHE | A_NULL },
	{ "kECDHE", K_ECDHE }, { "kEECDH", K_ECDHE }, { "ECDH", K_ECDHE },
	{ "ECDHE", K_ECDHE | AU_AUTH }, { "EECDH", K_ECDHE | AU_AUTH },
	{ "AECDH", K_ECDHE | A_NULL }, { "aECDSA", A_ECDSA }, { "ECDSA", A_ECDSA },
	{ "TLSv1.2", V_TLS12 }, { "TLSv1.0", V_TLS10 }, { "TLSv1", V_TLS10 },
	{ "SSLv3", V_SSL3 }, { "AES", E_AES_128 | E_AES_256 }, { "AES128", E_AES_128 },
	{ "AES256", E_AES_256 }, { "AESGCM", E_GCM128 | E_GCM256 },
	{ "AESCCM", E_CCM | E_CCM8 }, { "AESCCM8", E_CCM8 }, { "CHACHA20", E_CHACHA },
	{ "CBC", E_AES128 | E_AES256 | E_3DES | E_DES },
	{ "3DES", E_3DES }, { "DES", E_DES }, { "RC4", E_RC4 },
	{ "MD5", M_MD5 }, { "SHA1", M_SHA1 }, { "SHA", M_SHA1 },
	{ "SHA256", M_SHA256 }, { "SHA384", M_SHA384 },
	{ "aDSS", CAT_NONE }, { "DSS", CAT_NONE }, { "PSK", CAT_NONE },
	{ "kPSK", CAT_NONE }, { "aPSK", CAT_NONE }, { "kECDHEPSK", CAT_NONE },
	{ "kDHEPSK", CAT_NONE }, { "kRSAPSK", CAT_NONE }, { "SRP", CAT_NONE },
	{ "kSRP", CAT_NONE }, { "aSRP", CAT_NONE }, { "CAMELLIA", CAT_NONE },
	{ "CAMELLIA128", CAT_NONE }, { "CAMELLIA256", CAT_NONE }, { "ARIA", CAT_NONE },
	{ "ARIA128", CAT_NONE }, { "ARIA256", CAT_NONE }, { "ARIAGCM", CAT_NONE },
	{ "SEED", CAT_NONE }, { "IDEA", CAT_NONE }, { "RC2", CAT_NONE },
};

/* Names in Node's default list that name no suite (there is no
 * ECDHE-RSA-AES256-SHA256 nor DHE-RSA-AES256-SHA384); OpenSSL skips them. */
static const char *const phantom_names[] = {
	"ECDHE-RSA-AES256-SHA256", "DHE-RSA-AES256-SHA384",
};

static const uint64_t categories[] = {
	CAT_KX, CAT_AU, CAT_ENC, CAT_MAC, CAT_VER, CAT_STR, CAT_DEF, CAT_NONE,
};

/* Distinct key sizes in the table, largest first, for @STRENGTH. */
static const uint16_t strengths[] = { 256, 128, 112, 56, 40, 0 };

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define TOKEN_SHOWN 100		/* at most this much of a bad token in a message */
#define NAMES_MAX 16
#define PRIORITY_MAX 1024

enum { VER_12 = 2, VER_13 = 3 };

/* ---- the ordered list (OpenSSL's semantics) ---- */

struct slice {
	const char *p;
	size_t n;
};

/* What an element or '+' chain matches. */
struct pred {
	int suite;		/* -1: any suite; -2: no suite; else that one */
	uint64_t bits;		/* allowed attribute bits per constrained category */
	uint64_t cats;		/* the categories <bits> constrains */
};

struct sel {
	uint8_t order[N_SUITES];	/* suites not removed with '!', in list order */
	size_t n;
	bool active[N_SUITES];
	bool killed[N_SUITES];		/* removed with '!' */
	bool minus[N_SUITES];		/* removed with '-' and not added back */
	bool named[N_SUITES];		/* added by a token that is its full name */
	bool has12;			/* a token not starting with "TLS_" */
	bool named13;			/* a plain token naming a TLS 1.3 suite */
	size_t tokens;
};

static bool slice_eq(struct slice s, const char *lit)
{
	return strlen(lit) == s.n && memcmp(s.p, lit, s.n) == 0;
}

static bool slice_prefix(struct slice s, const char *lit)
{
	size_t n = strlen(lit);

	return s.n >= n && memcmp(s.p, lit, n) == 0;
}

static int shown(struct slice s)
{
	return s.n > TOKEN_SHOWN ? TOKEN_SHOWN : (int)s.n;
}

static bool is_sep(char c)
{
	return c == ':' || c == ',' || c == ' ';
}

/* next_token: the next non-empty token at <*cur>; false at the end. */
static bool next_token(const char **cur, struct slice *tok)
{
	const char *p = *cur;

	while (*p != '\0' && is_sep(*p))
		p++;
	tok->p = p;
	while (*p != '\0' && !is_sep(*p))
		p++;
	tok->n = (size_t)(p - tok->p);
	*cur = p;
	return tok->n > 0;
}

static int find_suite(struct slice s)
{
	size_t i;

	for (i = 0; i < N_SUITES; i++)
		if (slice_eq(s, suites[i].name))
			return (int)i;
	return -1;
}

static int find_suite_by_id(const uint8_t id[2])
{
	size_t i;

	for (i = 0; i < N_SUITES; i++)
		if (suites[i].id[0] == id[0] && suites[i].id[1] == id[1])
			return (int)i;
	return -1;
}

static uint64_t cats_of(uint64_t bits)
{
	uint64_t cats = 0;
	size_t c;

	for (c = 0; c < ARRAY_LEN(categories); c++)
		if (bits & categories[c])
			cats |= categories[c];
	return cats;
}

static bool is_phantom(struct slice s)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(phantom_names); i++)
		if (slice_eq(s, phantom_names[i]))
			return true;
	return false;
}

/* element_pred: what the single element <el> (no '+') matches. */
static int element_pred(struct slice el, struct pred *p, struct tlsd_error *err)
{
	size_t i;

	*p = (struct pred){ .suite = find_suite(el) };
	if (p->suite >= 0)
		return TLSD_OK;
	p->suite = is_phantom(el) ? -2 : -1;
	if (p->suite == -2)
		return TLSD_OK;
	for (i = 0; i < ARRAY_LEN(aliases); i++) {
		if (slice_eq(el, aliases[i].name)) {
			p->bits = aliases[i].bits;
			p->cats = cats_of(p->bits);
			return TLSD_OK;
		}
	}
	return tlsd_error_set(err, TLSD_ERR_CONFIG, "ciphers: unknown cipher or alias \"%.*s\"",
			      shown(el), el.p);
}

/* pred_and: narrow <a> to the suites <b> matches too. A category both
 * constrain keeps the common bits; none left means nothing matches. */
static void pred_and(struct pred *a, const struct pred *b)
{
	size_t c;
	uint64_t m, keep;

	if (b->suite != -1)
		a->suite = (a->suite == -1 || a->suite == b->suite) ? b->suite : -2;
	for (c = 0; c < ARRAY_LEN(categories); c++) {
		m = categories[c];
		if (!(b->cats & m))
			continue;
		keep = (a->cats & m) ? (a->bits & b->bits & m) : (b->bits & m);
		a->bits = (a->bits & ~m) | keep;
		a->cats |= m;
	}
}

/* token_pred: what the '+'-joined elements of <tok> match together. */
static int token_pred(struct slice tok, struct pred *p, struct tlsd_error *err)
{
	struct slice el = { tok.p, 0 };
	const char *end = tok.p + tok.n;
	struct pred q;

	*p = (struct pred){ .suite = -1 };
	for (;;) {
		while (el.p + el.n < end && el.p[el.n] != '+')
			el.n++;
		GUARD(element_pred(el, &q, err));
		pred_and(p, &q);
		if (el.p + el.n >= end)
			return TLSD_OK;
		el.p += el.n + 1;
		el.n = 0;
	}
}

/* pred_match: aliases never match TLS 1.3 suites (Node and OpenSSL select
 * those by full name only). */
static bool pred_match(const struct pred *p, size_t i)
{
	const struct suite *s = &suites[i];
	size_t c;

	if (p->suite == -2 || (p->suite >= 0 && (size_t)p->suite != i))
		return false;
	if ((s->flags & F_TLS13) && p->suite < 0)
		return false;
	for (c = 0; c < ARRAY_LEN(categories); c++)
		if ((p->cats & categories[c]) && !(s->attrs & p->bits & categories[c]))
			return false;
	return true;
}

static size_t pos_of(const struct sel *s, uint8_t i)
{
	size_t k;

	for (k = 0; k < s->n && s->order[k] != i; k++)
		;
	return k;
}

static void list_cut(struct sel *s, uint8_t i)
{
	size_t k = pos_of(s, i);

	memmove(&s->order[k], &s->order[k + 1], s->n - k - 1);
	s->n--;
}

static void move_to_tail(struct sel *s, uint8_t i)
{
	list_cut(s, i);
	s->order[s->n++] = i;
}

static void move_to_head(struct sel *s, uint8_t i)
{
	list_cut(s, i);
	memmove(&s->order[1], &s->order[0], s->n);
	s->order[0] = i;
	s->n++;
}

/* op_add: a plain token. Matching inactive suites go to the end, in their
 * current order; a token that is a suite's full name also marks it named. */
static void op_add(struct sel *s, const struct pred *p)
{
	uint8_t snap[N_SUITES];
	size_t k, n = s->n;
	bool naming = p->suite >= 0 && p->cats == 0;

	memcpy(snap, s->order, n);
	for (k = 0; k < n; k++) {
		if (!pred_match(p, snap[k]))
			continue;
		s->named[snap[k]] |= naming;
		if (s->active[snap[k]])
			continue;
		move_to_tail(s, snap[k]);
		s->active[snap[k]] = true;
		s->minus[snap[k]] = false;
	}
}

/* op_del: '-'. Removed suites move to the front, so that a later token adds
 * them back first (as OpenSSL does). */
static void op_del(struct sel *s, const struct pred *p)
{
	uint8_t snap[N_SUITES];
	size_t k, n = s->n;

	memcpy(snap, s->order, n);
	for (k = n; k-- > 0;) {
		if (!s->active[snap[k]] || !pred_match(p, snap[k]))
			continue;
		move_to_head(s, snap[k]);
		s->active[snap[k]] = false;
		s->minus[snap[k]] = true;
	}
}

/* op_kill: '!'. The suites leave the list for good. */
static void op_kill(struct sel *s, const struct pred *p)
{
	uint8_t snap[N_SUITES];
	size_t k, n = s->n;

	memcpy(snap, s->order, n);
	for (k = 0; k < n; k++) {
		if (!pred_match(p, snap[k]))
			continue;
		list_cut(s, snap[k]);
		s->active[snap[k]] = false;
		s->killed[snap[k]] = true;
	}
}

/* op_ord: '+'. Matching active suites move to the end. */
static void op_ord(struct sel *s, const struct pred *p)
{
	uint8_t snap[N_SUITES];
	size_t k, n = s->n;

	memcpy(snap, s->order, n);
	for (k = 0; k < n; k++)
		if (s->active[snap[k]] && pred_match(p, snap[k]))
			move_to_tail(s, snap[k]);
}

/* op_strength: "@STRENGTH", a stable sort of the active TLS 1.2 suites by
 * key size, largest first (TLS 1.3 suites live in their own list). */
static void op_strength(struct sel *s)
{
	uint8_t snap[N_SUITES];
	size_t k, v, n = s->n;

	for (v = 0; v < ARRAY_LEN(strengths); v++) {
		memcpy(snap, s->order, n);
		for (k = 0; k < n; k++) {
			const struct suite *e = &suites[snap[k]];

			if (s->active[snap[k]] && !(e->flags & F_TLS13) && e->bits == strengths[v])
				move_to_tail(s, snap[k]);
		}
	}
}

/* apply_command: "@STRENGTH", or "@SECLEVEL=n" which is accepted and
 * ignored: OpenSSL's levels bound key sizes and signature hashes, which
 * GnuTLS governs with its own profiles, and every suite tlsd can enable
 * already passes OpenSSL's default level. */
static int apply_command(struct sel *s, struct slice tok, struct tlsd_error *err)
{
	if (slice_eq(tok, "@STRENGTH")) {
		op_strength(s);
		return TLSD_OK;
	}
	if (slice_prefix(tok, "@SECLEVEL=") && tok.n == 11 && tok.p[10] >= '0' && tok.p[10] <= '5')
		return TLSD_OK;
	return tlsd_error_set(err, TLSD_ERR_CONFIG, "ciphers: unknown cipher or alias \"%.*s\"",
			      shown(tok), tok.p);
}

static int apply_token(struct sel *s, struct slice tok, struct tlsd_error *err)
{
	char op = 0;
	struct pred p;

	if (tok.p[0] == '!' || tok.p[0] == '-' || tok.p[0] == '+') {
		op = tok.p[0];
		tok.p++;
		tok.n--;
	}
	s->has12 |= !slice_prefix(tok, "TLS_");
	if (op == 0 && tok.n > 0 && tok.p[0] == '@')
		return apply_command(s, tok, err);
	GUARD(token_pred(tok, &p, err));
	if (op == '!')
		op_kill(s, &p);
	else if (op == '-')
		op_del(s, &p);
	else if (op == '+')
		op_ord(s, &p);
	else
		op_add(s, &p);
	return TLSD_OK;
}

/* names_tls13: whether a plain token of <str> names a TLS 1.3 suite. */
static bool names_tls13(const char *str)
{
	struct slice tok;

	while (next_token(&str, &tok))
		if (slice_prefix(tok, "TLS_"))
			return true;
	return false;
}

static void sel_init(struct sel *s)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < N_SUITES; i++)
		s->order[i] = (uint8_t)i;
	s->n = N_SUITES;
}

/* seed_tls13: with no TLS 1.3 suite named, OpenSSL's default ones stay on. */
static void seed_tls13(struct sel *s)
{
	struct pred p = { .suite = -1 };
	size_t i;

	for (i = 0; i < N_SUITES; i++) {
		if (!(suites[i].flags & F_DEF13))
			continue;
		p.suite = (int)i;
		op_add(s, &p);	/* marks them named: refine must keep them */
	}
}

/* expand_tokens: run every token of <str> over a fresh list <s>. */
static int expand_tokens(const char *str, struct sel *s, struct tlsd_error *err)
{
	struct slice tok;

	sel_init(s);
	s->named13 = names_tls13(str);
	if (!s->named13)
		seed_tls13(s);
	while (next_token(&str, &tok)) {
		s->tokens++;
		GUARD(apply_token(s, tok, err));
	}
	return TLSD_OK;
}

static bool enableable(size_t i)
{
	return !(suites[i].flags & F_NEVER);
}

static size_t count_active(const struct sel *s, bool tls13)
{
	size_t i, n = 0;

	for (i = 0; i < N_SUITES; i++)
		if (s->active[i] && enableable(i) && !(suites[i].flags & F_TLS13) == !tls13)
			n++;
	return n;
}

/* expand: <str> to a list, refusing strings that select nothing tlsd can
 * enable. A TLS 1.2 part that selects nothing fails as in Node. */
static int expand(const char *str, struct sel *s, struct tlsd_error *err)
{
	GUARD(expand_tokens(str, s, err));
	if (s->tokens == 0 || (s->has12 && count_active(s, false) == 0 && !s->named13))
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "ciphers: selects no cipher suite");
	if (s->has12 && count_active(s, false) == 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG,
				      "ciphers: selects no TLS 1.2 cipher suite (name only TLS_* suites to serve TLS 1.3 alone)");
	return TLSD_OK;
}

static bool excluded(const struct sel *s, size_t i)
{
	return s->killed[i] || (s->minus[i] && !s->active[i]);
}

/* ---- versions ---- */

static int parse_version(const char *key, const char *val, unsigned *out, struct tlsd_error *err)
{
	if (val == NULL)
		return TLSD_OK;
	if (strcmp(val, "TLSv1.3") == 0 || strcmp(val, "TLSv1.2") == 0) {
		*out = strcmp(val, "TLSv1.3") == 0 ? VER_13 : VER_12;
		return TLSD_OK;
	}
	if (strcmp(val, "TLSv1.1") == 0 || strcmp(val, "TLSv1") == 0 || strcmp(val, "SSLv3") == 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG,
				      "%s: %s is not supported (tlsd serves TLS 1.2 and TLS 1.3)", key, val);
	return tlsd_error_set(err, TLSD_ERR_CONFIG,
			      "%s: unknown protocol version \"%.100s\" (use TLSv1.2 or TLSv1.3)", key, val);
}

/* Node's secureProtocol names (OpenSSL method names) tlsd can serve. */
static const struct {
	const char *name;
	unsigned min, max;
} methods[] = {
	{ "TLS_method", VER_12, VER_13 }, { "TLS_server_method", VER_12, VER_13 },
	{ "SSLv23_method", VER_12, VER_13 }, { "SSLv23_server_method", VER_12, VER_13 },
	{ "TLSv1_2_method", VER_12, VER_12 }, { "TLSv1_2_server_method", VER_12, VER_12 },
};

static const char *const old_methods[] = {
	"TLSv1_1_method", "TLSv1_1_server_method", "TLSv1_method", "TLSv1_server_method",
	"SSLv3_method", "SSLv3_server_method", "SSLv2_method", "SSLv2_server_method",
};

static int parse_method(const char *val, unsigned *min, unsigned *max, struct tlsd_error *err)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(methods); i++) {
		if (strcmp(val, methods[i].name) == 0) {
			*min = methods[i].min;
			*max = methods[i].max;
			return TLSD_OK;
		}
	}
	for (i = 0; i < ARRAY_LEN(old_methods); i++)
		if (strcmp(val, old_methods[i]) == 0)
			return tlsd_error_set(err, TLSD_ERR_CONFIG,
					      "secureProtocol: %s is not supported (tlsd serves TLS 1.2 and TLS 1.3)", val);
	return tlsd_error_set(err, TLSD_ERR_CONFIG,
			      "secureProtocol: unknown method \"%.100s\" (use TLS_method or TLSv1_2_method)", val);
}

/* version_range: [<*min>, <*max>] from minVersion/maxVersion or, exclusively
 * (Node's ERR_TLS_PROTOCOL_VERSION_CONFLICT), secureProtocol. */
static int version_range(const struct tlsd_priority_opts *o, unsigned *min, unsigned *max,
			 struct tlsd_error *err)
{
	*min = VER_12;
	*max = VER_13;
	if (o->secure_protocol != NULL && (o->min_version != NULL || o->max_version != NULL))
		return tlsd_error_set(err, TLSD_ERR_CONFIG,
				      "secureProtocol: conflicts with minVersion/maxVersion (set one or the other)");
	if (o->secure_protocol != NULL)
		return parse_method(o->secure_protocol, min, max, err);
	GUARD(parse_version("minVersion", o->min_version, min, err));
	GUARD(parse_version("maxVersion", o->max_version, max, err));
	if (*min > *max)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "minVersion: %s is above maxVersion %s",
				      o->min_version, o->max_version ? o->max_version : "TLSv1.3");
	return TLSD_OK;
}

/* ---- the GnuTLS side: names, model of the product, refinement ---- */

struct names {
	const char *v[NAMES_MAX];
	size_t n;
};

struct plan {
	bool v12, v13;
	struct names kx, cipher, mac, groups;
};

enum field { FIELD_CIPHER, FIELD_MAC };

static bool names_has(const struct names *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], name) == 0)
			return true;
	return false;
}

/* names_add: append <name> unless present; the lists are bounded by the
 * distinct names in the tables, below NAMES_MAX. */
static void names_add(struct names *l, const char *name)
{
	if (!names_has(l, name) && l->n < NAMES_MAX)
		l->v[l->n++] = name;
}

static void names_del(struct names *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (strcmp(l->v[i], name) == 0) {
			memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(l->v[0]));
			l->n--;
			return;
		}
	}
}

static struct names *plan_field(struct plan *pl, enum field f)
{
	return f == FIELD_CIPHER ? &pl->cipher : &pl->mac;
}

static bool version_on(const struct plan *pl, size_t i)
{
	return (suites[i].flags & F_TLS13) ? pl->v13 : pl->v12;
}

/* wanted: suite <i> is one the string selects for an enabled version. */
static bool wanted(const struct plan *pl, const struct sel *s, size_t i)
{
	return s->active[i] && enableable(i) && version_on(pl, i);
}

/* plan_enables: whether GnuTLS would enable suite <i> for <pl>: every
 * kx x cipher x MAC combination (cipher x AEAD for TLS 1.3). */
static bool plan_enables(const struct plan *pl, size_t i)
{
	const struct suite *e = &suites[i];

	if (!enableable(i) || !version_on(pl, i))
		return false;
	if (e->kx != NULL && !names_has(&pl->kx, e->kx))
		return false;
	return names_has(&pl->cipher, e->cipher) && names_has(&pl->mac, e->mac);
}

/* plan_make: versions and the kx/cipher/MAC names, in order of first
 * appearance in the expanded list. */
static int plan_make(struct plan *pl, const struct sel *s, unsigned min, unsigned max,
		     struct tlsd_error *err)
{
	size_t k;

	memset(pl, 0, sizeof(*pl));
	pl->v12 = min <= VER_12 && s->has12;
	pl->v13 = max >= VER_13 && count_active(s, true) > 0;
	if (!pl->v12 && !pl->v13)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "ciphers: selects no cipher suite");
	for (k = 0; k < s->n; k++) {
		const struct suite *e = &suites[s->order[k]];

		if (!wanted(pl, s, s->order[k]))
			continue;
		if (e->kx != NULL)
			names_add(&pl->kx, e->kx);
		names_add(&pl->cipher, e->cipher);
		names_add(&pl->mac, e->mac);
	}
	return TLSD_OK;
}

/* plan_keeps: whether <after> still enables every named suite <before> did,
 * and at least one selected suite of each version <before> served. */
static bool plan_keeps(const struct plan *after, const struct plan *before, const struct sel *s)
{
	size_t i, had[2] = { 0, 0 }, has[2] = { 0, 0 };

	for (i = 0; i < N_SUITES; i++) {
		bool v13 = suites[i].flags & F_TLS13;

		if (!wanted(before, s, i) || !plan_enables(before, i))
			continue;
		if (s->named[i] && !plan_enables(after, i))
			return false;
		had[v13]++;
		has[v13] += plan_enables(after, i);
	}
	return (had[0] == 0 || has[0] > 0) && (had[1] == 0 || has[1] > 0);
}

/* drop_for: remove one name from <pl> so that excluded suite <f> is no
 * longer enabled: its MAC unless AEAD, else its cipher, the first that
 * plan_keeps accepts. */
static int drop_for(struct plan *pl, const struct sel *s, size_t f, struct tlsd_error *err)
{
	const struct suite *e = &suites[f];
	const enum field order[] = { FIELD_MAC, FIELD_CIPHER };
	const char *name[] = { e->mac, e->cipher };
	struct plan trial;
	size_t c;

	for (c = 0; c < ARRAY_LEN(order); c++) {
		if (c == 0 && strcmp(e->mac, "AEAD") == 0)
			continue;
		trial = *pl;
		names_del(plan_field(&trial, order[c]), name[c]);
		if (plan_keeps(&trial, pl, s)) {
			*pl = trial;
			return TLSD_OK;
		}
	}
	return tlsd_error_set(err, TLSD_ERR_CONFIG,
			      "ciphers: \"%s\" is excluded, but GnuTLS cannot leave it out without dropping a suite the string names (it enables every key exchange x cipher x MAC combination)",
			      e->name);
}

/* refine: leave out every excluded suite the product would enable. Dropping
 * a name never enables a suite, so one pass suffices. */
static int refine(struct plan *pl, const struct sel *s, struct tlsd_error *err)
{
	size_t i;

	for (i = 0; i < N_SUITES; i++)
		if (plan_enables(pl, i) && excluded(s, i))
			GUARD(drop_for(pl, s, i, err));
	return TLSD_OK;
}

/* ---- groups ---- */

static const struct {
	const char *name;	/* OpenSSL / Node spelling */
	const char *group;	/* GnuTLS priority name */
} curves[] = {
	{ "X25519", "GROUP-X25519" }, { "x25519", "GROUP-X25519" },
	{ "X448", "GROUP-X448" }, { "x448", "GROUP-X448" },
	{ "prime256v1", "GROUP-SECP256R1" }, { "secp256r1", "GROUP-SECP256R1" },
	{ "P-256", "GROUP-SECP256R1" }, { "secp384r1", "GROUP-SECP384R1" },
	{ "P-384", "GROUP-SECP384R1" }, { "secp521r1", "GROUP-SECP521R1" },
	{ "P-521", "GROUP-SECP521R1" }, { "ffdhe2048", "GROUP-FFDHE2048" },
	{ "ffdhe3072", "GROUP-FFDHE3072" }, { "ffdhe4096", "GROUP-FFDHE4096" },
	{ "ffdhe6144", "GROUP-FFDHE6144" }, { "ffdhe8192", "GROUP-FFDHE8192" },
};

static int add_curve(struct names *groups, struct slice name, struct tlsd_error *err)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(curves); i++) {
		if (!slice_eq(name, curves[i].name))
			continue;
		if (names_has(groups, curves[i].group))
			return tlsd_error_set(err, TLSD_ERR_CONFIG, "ecdhCurve: curve \"%.*s\" is listed twice",
					      shown(name), name.p);
		names_add(groups, curves[i].group);
		return TLSD_OK;
	}
	return tlsd_error_set(err, TLSD_ERR_CONFIG, "ecdhCurve: unknown curve \"%.*s\"", shown(name), name.p);
}

static bool has_ffdhe(const struct names *groups)
{
	size_t i;

	for (i = 0; i < groups->n; i++)
		if (strncmp(groups->v[i], "GROUP-FFDHE", 11) == 0)
			return true;
	return false;
}

/* parse_curves: ecdhCurve (':'-separated; NULL or "auto" = Node's
 * X25519:P-256:P-384) into <pl>'s groups. With DHE suites on and no FFDHE
 * group named, the RFC 7919 groups follow, so DHE needs no dhparam. */
static int parse_curves(const char *spec, struct plan *pl, struct tlsd_error *err)
{
	struct slice name;
	const char *colon;

	if (spec == NULL || strcmp(spec, "auto") == 0)
		spec = "X25519:P-256:P-384";
	for (;;) {
		colon = strchr(spec, ':');
		name.p = spec;
		name.n = colon ? (size_t)(colon - spec) : strlen(spec);
		GUARD(add_curve(&pl->groups, name, err));
		if (colon == NULL)
			break;
		spec = colon + 1;
	}
	if (pl->v12 && names_has(&pl->kx, "DHE-RSA") && !has_ffdhe(&pl->groups)) {
		names_add(&pl->groups, "GROUP-FFDHE2048");
		names_add(&pl->groups, "GROUP-FFDHE3072");
		names_add(&pl->groups, "GROUP-FFDHE4096");
	}
	return TLSD_OK;
}

/* ---- the priority string ---- */

struct sbuf {
	char *buf;
	size_t len, cap;
	bool overflow;
};

static void sb_put(struct sbuf *b, const char *prefix, const char *name)
{
	int n;

	if (b->overflow)
		return;
	n = snprintf(b->buf + b->len, b->cap - b->len, "%s%s%s", b->len ? ":" : "", prefix, name);
	if (n < 0 || (size_t)n >= b->cap - b->len)
		b->overflow = true;
	else
		b->len += (size_t)n;
}

static void sb_names(struct sbuf *b, const struct names *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		sb_put(b, "+", l->v[i]);
}

/* build_string: the priority text for <pl> into a malloc'd <*out>.
 * +CTYPE-X509: GnuTLS assumes X.509 when NONE lists no type; naming it keeps
 * the string complete on its own. */
static int build_string(const struct plan *pl, bool honor, char **out, struct tlsd_error *err)
{
	struct sbuf b = { .buf = malloc(PRIORITY_MAX), .cap = PRIORITY_MAX };

	if (b.buf == NULL)
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "ciphers: out of memory");
	sb_put(&b, "", "NONE");
	if (pl->v13)
		sb_put(&b, "+", "VERS-TLS1.3");
	if (pl->v12)
		sb_put(&b, "+", "VERS-TLS1.2");
	sb_names(&b, &pl->kx);
	sb_names(&b, &pl->cipher);
	sb_names(&b, &pl->mac);
	sb_put(&b, "+", "SIGN-ALL");
	sb_put(&b, "+", "COMP-NULL");
	sb_names(&b, &pl->groups);
	sb_put(&b, "+", "CTYPE-X509");
	if (honor)
		sb_put(&b, "%", "SERVER_PRECEDENCE");
	if (b.overflow) {
		free(b.buf);
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "ciphers: priority string too long");
	}
	*out = b.buf;
	return TLSD_OK;
}

/* ---- verification with the real library ---- */

/* mark_enabled: record GnuTLS suite <sidx> in <en>; a suite outside the
 * table, or one tlsd never enables, is an error. */
static int mark_enabled(unsigned sidx, bool en[N_SUITES], struct tlsd_error *err)
{
	uint8_t id[2];
	const char *gname = gnutls_cipher_suite_info(sidx, id, NULL, NULL, NULL, NULL);
	int i;

	if (gname == NULL)
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "ciphers: GnuTLS lists an unknown suite");
	i = find_suite_by_id(id);
	if (i < 0 || !enableable((size_t)i))
		return tlsd_error_set(err, TLSD_ERR_CONFIG,
				      "ciphers: the priority enables %s (0x%02X,0x%02X), which tlsd never enables",
				      gname, id[0], id[1]);
	en[i] = true;
	return TLSD_OK;
}

/* gnutls_enabled: the suites GnuTLS enables for <prio>, as table flags. */
static int gnutls_enabled(const char *prio, bool en[N_SUITES], struct tlsd_error *err)
{
	gnutls_priority_t pc = NULL;
	const char *errpos = NULL;
	unsigned idx, sidx;
	int rc = TLSD_OK, gr;

	memset(en, 0, N_SUITES * sizeof(en[0]));
	gr = gnutls_priority_init2(&pc, prio, &errpos, 0);
	if (gr < 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "ciphers: GnuTLS rejects the priority at \"%.100s\": %s",
				      errpos ? errpos : "", gnutls_strerror(gr));
	for (idx = 0;; idx++) {
		gr = gnutls_priority_get_cipher_suite_index(pc, idx, &sidx);
		if (gr == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (gr < 0)	/* a slot for a suite this build lacks */
			continue;
		GUARD_GOTO(mark_enabled(sidx, en, err), rc, out);
	}
out:
	gnutls_priority_deinit(pc);
	return rc;
}

/* verify: <prio> enables only table suites, and none <s> (if non-NULL)
 * excludes. */
static int verify(const char *prio, const struct sel *s, struct tlsd_error *err)
{
	bool en[N_SUITES];
	size_t i;

	GUARD(gnutls_enabled(prio, en, err));
	for (i = 0; s != NULL && i < N_SUITES; i++)
		if (en[i] && excluded(s, i))
			return tlsd_error_set(err, TLSD_ERR_CONFIG,
					      "ciphers: the priority enables \"%s\", which the cipher string excludes",
					      suites[i].name);
	return TLSD_OK;
}

int ciphers_verify_priority(const char *priority, const char *ciphers, struct tlsd_error *err)
{
	struct sel s;

	if (ciphers == NULL)
		return verify(priority, NULL, err);
	GUARD(expand_tokens(ciphers, &s, err));
	return verify(priority, &s, err);
}

/* ---- the exported entry points ---- */

int ciphers_build_priority(const struct tlsd_priority_opts *opts, char **out, struct tlsd_error *err)
{
	const char *str = opts->ciphers;
	struct sel s;
	struct plan pl;
	unsigned min, max;
	char *text = NULL;
	int rc;

	*out = NULL;
	/* Node: ciphers || DEFAULT_CIPHERS, so "" means the default too. */
	if (str == NULL || str[0] == '\0')
		str = ciphers_node_default;
	GUARD(expand(str, &s, err));
	GUARD(version_range(opts, &min, &max, err));
	GUARD(plan_make(&pl, &s, min, max, err));
	GUARD(refine(&pl, &s, err));
	GUARD(parse_curves(opts->ecdh_curve, &pl, err));
	GUARD(build_string(&pl, opts->honor_cipher_order, &text, err));
	GUARD_GOTO(verify(text, &s, err), rc, out);
	*out = text;
	text = NULL;
out:
	free(text);
	return rc;
}

const char *ciphers_openssl_name(uint8_t id0, uint8_t id1)
{
	const uint8_t id[2] = { id0, id1 };
	int i = find_suite_by_id(id);

	return i < 0 ? NULL : suites[i].name;
}

size_t ciphers_table_size(void)
{
	size_t i, n = 0;

	for (i = 0; i < N_SUITES; i++)
		n += enableable(i);
	return n;
}

const char *ciphers_table_name(size_t index)
{
	size_t i;

	for (i = 0; i < N_SUITES; i++)
		if (enableable(i) && index-- == 0)
			return suites[i].name;
	return NULL;
}
