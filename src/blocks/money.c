/*
 * money.c — exact accumulation of monetary amounts (see money.h).
 *
 * The fast path reads numeric's on-disk format directly, which is stable
 * across PostgreSQL versions (pg_upgrade keeps numeric columns as they are):
 * a varlena whose first uint16 is a header.  Short format, (hdr & 0xC000) ==
 * 0x8000: sign 0x2000, display scale (hdr & 0x1F80) >> 7, weight sign 0x0040
 * and weight bits 0x003F.  Long format: the header is n_sign_dscale (sign
 * 0x4000 means negative, display scale 0x3FFF) followed by an int16 weight.
 * Then come int16 base-10000 digits, the first one of the given weight.
 * (hdr & 0xC000) == 0xC000 marks NaN and the infinities.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/numeric.h"
#include "utils/pg_locale.h"

#include "compat.h"
#include "money.h"

#define NBASE			10000
#define HDR_FORMAT_MASK	0xC000
#define HDR_SHORT		0x8000
#define HDR_SPECIAL		0xC000
#define HDR_LONG_NEG	0x4000

static int128 Pow10[MONEY_FAST_MAX_SCALE + 1];
static bool Pow10Ready = false;

/* Fill the powers-of-ten table once per backend. */
static void
InitPow10(void)
{
	int128		p = 1;

	for (int i = 0; i <= MONEY_FAST_MAX_SCALE; i++)
	{
		Pow10[i] = p;
		p *= 10;
	}
	Pow10Ready = true;
}

/* Start an empty total. */
void
MoneySumInit(MoneySum *sum)
{
	if (unlikely(!Pow10Ready))
		InitPow10();
	sum->fast = 0;
	sum->scale = 0;
	sum->slow = NULL;
}

static void ReportNonFiniteAmount(const char *value) pg_attribute_noreturn();

/* The error for an amount that is not finite ("NaN", "Infinity" or "-Infinity"), of any type. */
static void
ReportNonFiniteAmount(const char *value)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("order amount must be a finite number"),
			 errdetail("The amount is %s.", value),
			 errhint("A monetary total must be finite: filter such rows out or correct them.")));
}

/* Raise the error for a numeric amount that is NaN or infinite: a money total must be finite. */
void
CheckAmountNumeric(Numeric value)
{
	if (numeric_is_nan(value))
		ReportNonFiniteAmount("NaN");
	if (numeric_is_inf(value))
		ReportNonFiniteAmount(DatumGetFloat8(DirectFunctionCall1(numeric_float8,
																 NumericGetDatum(value))) < 0 ?
							  "-Infinity" : "Infinity");
}

/* Raise the error for a float amount that is NaN or infinite. */
void
CheckAmountFloat8(float8 value)
{
	if (isnan(value))
		ReportNonFiniteAmount("NaN");
	if (isinf(value))
		ReportNonFiniteAmount(value < 0 ? "-Infinity" : "Infinity");
}

/* The money type's scale, found exactly as cash_numeric() finds it. */
int
MoneyCashScale(void)
{
	struct lconv *lconvert = PGLC_localeconv();
	int			fpoint = lconvert->frac_digits;

	if (fpoint < 0 || fpoint > 10)
		fpoint = 2;
	return fpoint;
}

/*
 * Decode a (possibly short-header) numeric into value * 10^scale as int128.
 * Returns false when that is not an exact int128: too large, or digits
 * beyond the requested scale.  *dscale receives the display scale.
 */
static bool
NumericToScaledInt128(const struct varlena *num, int scale, int128 *result, int *dscale)
{
	const char *p = VARDATA_ANY(num);
	Size		len = VARSIZE_ANY_EXHDR(num);
	uint16		hdr;
	int			weight;
	bool		neg;
	const char *digits;
	int			ndigits;
	int128		acc = 0;
	int			exp10;

	memcpy(&hdr, p, sizeof(uint16));
	if ((hdr & HDR_FORMAT_MASK) == HDR_SHORT)
	{
		neg = (hdr & 0x2000) != 0;
		*dscale = (hdr & 0x1F80) >> 7;
		weight = (hdr & 0x0040) ? (int) (hdr & 0x003F) - 64 : (int) (hdr & 0x003F);
		digits = p + sizeof(uint16);
		ndigits = (len - sizeof(uint16)) / sizeof(int16);
	}
	else
	{
		int16		w;

		Assert((hdr & HDR_FORMAT_MASK) != HDR_SPECIAL);
		if (len < 2 * sizeof(uint16))
			return false;		/* not a valid numeric: let numeric.c judge it */
		neg = (hdr & HDR_FORMAT_MASK) == HDR_LONG_NEG;
		*dscale = hdr & 0x3FFF;
		memcpy(&w, p + sizeof(uint16), sizeof(int16));
		weight = w;
		digits = p + 2 * sizeof(uint16);
		ndigits = (len - 2 * sizeof(uint16)) / sizeof(int16);
	}
	if (scale < *dscale)
		scale = *dscale;
	if (scale > MONEY_FAST_MAX_SCALE)
		return false;

	for (int i = 0; i < ndigits; i++)
	{
		int16		d;

		memcpy(&d, digits + i * sizeof(int16), sizeof(int16));
		if (__builtin_mul_overflow(acc, (int128) NBASE, &acc) ||
			__builtin_add_overflow(acc, (int128) d, &acc))
			return false;
	}
	if (acc == 0)
	{
		*result = 0;
		return true;
	}
	/* acc is the value times 10^-(4 * (weight - ndigits + 1)) */
	exp10 = 4 * (weight - ndigits + 1) + scale;
	if (exp10 > MONEY_FAST_MAX_SCALE || exp10 < -MONEY_FAST_MAX_SCALE)
		return false;
	if (exp10 >= 0)
	{
		if (__builtin_mul_overflow(acc, Pow10[exp10], &acc))
			return false;
	}
	else
	{
		if (acc % Pow10[-exp10] != 0)
			return false;
		acc /= Pow10[-exp10];
	}
	*result = neg ? -acc : acc;
	return true;
}

/*
 * A numeric as double precision, exactly as numeric_float8_no_overflow gives
 * it (the nearest double, +-Infinity beyond the range), without its trip
 * through text for the common case: a value m * 10^-s with |m| <= 2^53 and
 * s <= 22.  Then m and 10^s are both exact doubles, and one IEEE division
 * rounds to the nearest double, which is what converting the decimal text
 * gives (Clinger's fast path).  The scoring converts every customer's
 * monetary value this way; the text route cost a microsecond each.
 */
double
NumericToDouble(Numeric value)
{
	static const double exact_pow10[] = {
		1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
		1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
	};
	const struct varlena *num = (const struct varlena *) value;
	uint16		hdr;
	int128		m;
	int			dscale;

	if (unlikely(!Pow10Ready))
		InitPow10();
	memcpy(&hdr, VARDATA_ANY(num), sizeof(uint16));
	if ((hdr & HDR_FORMAT_MASK) != HDR_SPECIAL &&
		NumericToScaledInt128(num, 0, &m, &dscale) &&
		dscale < (int) lengthof(exact_pow10) &&
		m <= ((int128) 1 << 53) && m >= -((int128) 1 << 53))
		return (double) m / exact_pow10[dscale];
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, NumericGetDatum(value)));
}

/* Add an exact numeric to the slow accumulator, allocating in cxt. */
static void
SlowAdd(MoneySum *sum, Numeric value, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	Numeric		prev = sum->slow;

	if (prev == NULL)
		sum->slow = DatumGetNumericCopy(NumericGetDatum(value));
	else
	{
		sum->slow = numeric_add_opt_error(prev, value, NULL);
		pfree(prev);
	}
	MemoryContextSwitchTo(old);
}

/* Move the fast total into the slow accumulator, keeping the scale. */
static void
FlushFast(MoneySum *sum, MemoryContext cxt)
{
	if (sum->fast != 0)
	{
		Numeric		n = Int128ToNumeric(sum->fast, sum->scale);

		SlowAdd(sum, n, cxt);
		pfree(n);
	}
	sum->fast = 0;
}

/* Add v (already at scale vscale) to the fast total, rescaling or flushing as needed. */
static void
FastAdd(MoneySum *sum, int128 v, int vscale, MemoryContext cxt)
{
	int128		total;

	if (vscale > sum->scale)
	{
		int128		rescaled;

		if (__builtin_mul_overflow(sum->fast, Pow10[vscale - sum->scale], &rescaled))
			FlushFast(sum, cxt);
		else
			sum->fast = rescaled;
		sum->scale = vscale;
	}
	if (__builtin_add_overflow(sum->fast, v, &total))
	{
		FlushFast(sum, cxt);
		sum->fast = v;
	}
	else
		sum->fast = total;
}

/* Add a numeric amount (any header form); NaN and infinities are refused. */
void
MoneySumAddNumeric(MoneySum *sum, struct varlena *value, MemoryContext cxt)
{
	uint16		hdr;
	int128		v;
	int			dscale;

	if (unlikely(!Pow10Ready))
		InitPow10();
	memcpy(&hdr, VARDATA_ANY(value), sizeof(uint16));
	if (unlikely((hdr & HDR_FORMAT_MASK) == HDR_SPECIAL))
		CheckAmountNumeric((Numeric) pg_detoast_datum(value));

	if (likely(NumericToScaledInt128(value, sum->scale, &v, &dscale)))
		FastAdd(sum, v, Max(sum->scale, dscale), cxt);
	else
	{
		Numeric		n = (Numeric) pg_detoast_datum(value);

		SlowAdd(sum, n, cxt);
		if ((Pointer) n != (Pointer) value)
			pfree(n);
	}
}

/* Add value / 10^scale, for integer, bigint (scale 0) and money amounts. */
void
MoneySumAddScaledInt64(MoneySum *sum, int64 value, int scale, MemoryContext cxt)
{
	int			target = Max(sum->scale, scale);
	int128		v;

	if (unlikely(!Pow10Ready))
		InitPow10();
	if (__builtin_mul_overflow((int128) value, Pow10[target - scale], &v))
	{
		Numeric		n = Int128ToNumeric(value, scale);

		SlowAdd(sum, n, cxt);
		pfree(n);
	}
	else
		FastAdd(sum, v, target, cxt);
}

/* Add a float amount as its 15-significant-digit decimal form, as float8_numeric does. */
void
MoneySumAddFloat8(MoneySum *sum, float8 value, MemoryContext cxt)
{
	Numeric		n;

	CheckAmountFloat8(value);
	n = DatumGetNumeric(DirectFunctionCall1(float8_numeric, Float8GetDatum(value)));
	MoneySumAddNumeric(sum, (struct varlena *) n, cxt);
	pfree(n);
}

/* Add another total to this one. */
void
MoneySumMerge(MoneySum *sum, const MoneySum *other, MemoryContext cxt)
{
	int			target = Max(sum->scale, other->scale);
	int128		v;

	if (unlikely(!Pow10Ready))
		InitPow10();
	if (__builtin_mul_overflow(other->fast, Pow10[target - other->scale], &v))
	{
		Numeric		n = Int128ToNumeric(other->fast, other->scale);

		SlowAdd(sum, n, cxt);
		pfree(n);
	}
	else
		FastAdd(sum, v, target, cxt);
	if (other->slow != NULL)
		SlowAdd(sum, other->slow, cxt);
}

/* Build the numeric value / 10^scale exactly, with display scale scale. */
Numeric
Int128ToNumeric(int128 value, int scale)
{
	char		buf[MONEY_FAST_MAX_SCALE + 48];
	char	   *end = buf + sizeof(buf) - 1;
	char	   *p = end;
	bool		neg = value < 0;
	int			ndig = 0;

	Assert(scale >= 0 && scale <= MONEY_FAST_MAX_SCALE);
	/* int64_div_fast_to_numeric is exact here and avoids the text round trip */
	if (value > -INT64CONST(1000000000000000) && value < INT64CONST(1000000000000000))
		return int64_div_fast_to_numeric((int64) value, scale);

	*p = '\0';
	do
	{
		int			d = (int) (value % 10);

		*--p = '0' + (neg ? -d : d);
		value /= 10;
		if (++ndig == scale)
			*--p = '.';
	} while (value != 0 || ndig < scale);
	if (*p == '.')
		*--p = '0';
	if (neg)
		*--p = '-';
	return DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(p),
											   ObjectIdGetDatum(InvalidOid),
											   Int32GetDatum(-1)));
}

/* The exact total, with the largest display scale of the amounts added. */
Numeric
MoneySumResult(const MoneySum *sum)
{
	Numeric		fast = Int128ToNumeric(sum->fast, sum->scale);

	if (sum->slow == NULL)
		return fast;
	return numeric_add_opt_error(fast, sum->slow, NULL);
}
