"""
Reference values for test/monitor-stats.test.ts: P(X >= k) for X ~ Poisson(lambda), and the
smallest k >= max(1, floor(lambda)) with P(X >= k) < alpha, computed independently of Carewall
and of any incomplete-gamma code: the probability mass function summed term by term at 60
significant digits with mpmath (upwards from k when k > lambda; otherwise 1 minus the sum
downwards from k - 1), each sum stopped once a term is below 1e-70 of it.

    python3 test/helpers/poissonReference.py   # prints the TypeScript rows

A quantile row's margin is how far, relatively, the tails at k and k - 1 lie from alpha: the
computed tail may be off by far less than that without changing the answer.
"""
import mpmath as mp

mp.mp.dps = 60
EPS = mp.mpf(10) ** -70


def pmf(j, lam):
    return mp.e ** (-lam + j * mp.log(lam) - mp.loggamma(j + 1))


def tail(k, lam):
    lam = mp.mpf(lam)
    if k <= 0:
        return mp.mpf(1)
    if k > lam:
        s, t, j = mp.mpf(0), pmf(k, lam), k
        while True:
            s += t
            if t < s * EPS:
                return s
            j += 1
            t *= lam / j
    s, j = mp.mpf(0), k - 1
    t = pmf(j, lam)
    while j >= 0:
        s += t
        if t < s * EPS:
            break
        t *= j / lam
        j -= 1
    return 1 - s


def first_below(lam, alpha, start=None):
    """The smallest k >= start with tail(k) < alpha (tail falls with k)."""
    lo = start if start is not None else max(1, int(mp.floor(lam)))
    if tail(lo, lam) < alpha:
        return lo
    step = max(1, int(mp.sqrt(lam)))
    hi = lo + step
    while tail(hi, lam) >= alpha:
        lo, step = hi, step * 2
        hi = lo + step
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if tail(mid, lam) < alpha:
            hi = mid
        else:
            lo = mid
    return hi


def num(x):
    """A double's shortest exact text, or 0 where the value is below the doubles' range."""
    return js(float(x)) if x >= mp.mpf('1e-307') else '0'


def js(x):
    """A number as TypeScript would write it: 1e6, 30000, 0.5, 1e-9."""
    if x == int(x) and x < 1e15:
        n = int(x)
        return f'{n // 10**6}e6' if n >= 10**6 and n % 10**6 == 0 else str(n)
    return repr(x).replace('e-0', 'e-')


LAMBDAS = [1e-9, 1e-3, 0.5, 1, 3.7, 10, 42, 100, 740, 746, 1000, 1001, 5000, 3e4, 1e5, 1e6]
rows = []
for lam in LAMBDAS:
    sd = mp.sqrt(lam)
    ks = {1, first_below(lam, mp.mpf('1e-300'), 1)}
    for d in (-3, 0, 1, 3, 10):
        k = int(mp.nint(lam + d * sd))
        if k >= 1:
            ks.add(k)
    ks.add(int(mp.nint(lam)) + 1)
    if lam >= 100:
        ks.add(int(lam // 2))
    for k in sorted(ks):
        v = tail(k, lam)
        rows.append(f'  [{js(lam)}, {k}, {num(v)}], // {mp.nstr(v, 8)}')
print('const TAILS: Array<[lambda: number, k: number, tail: number]> = [')
print('\n'.join(rows))
print('];')

qrows = []
for lam in [1e-3, 0.5, 3.7, 42, 740, 746, 1000, 5000, 1e5, 1e6]:
    for alpha in ('1e-3', '1e-4', '1e-12'):
        k = first_below(lam, mp.mpf(alpha))
        # How far the two tails either side of the answer are from alpha: the test's margin.
        margin = min(abs(tail(k, lam) / mp.mpf(alpha) - 1), abs(tail(k - 1, lam) / mp.mpf(alpha) - 1) if k - 1 >= max(1, int(lam)) else 1)
        qrows.append(f'  [{js(lam)}, {alpha}, {k}], // margin {mp.nstr(margin, 2)}')
print(f'// P(X >= 5000) for lambda = 1000: {mp.nstr(tail(5000, 1000), 3)}')
print('const QUANTILES: Array<[lambda: number, alpha: number, k: number]> = [')
print('\n'.join(qrows))
print('];')
