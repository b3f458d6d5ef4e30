using System.Runtime.CompilerServices;

namespace GraphGen.Simd;

/// <summary>
/// Transcendental functions written once against <see cref="IVectorOps{TV}"/>, so each SIMD path gets
/// the same polynomial and the same rounding. Accuracy (checked in the tests against
/// <see cref="System.Math"/>): Exp within 2 ulp, Sigmoid and Tanh within 3e-7 absolute. A NaN input
/// gives a NaN output (divergence must stay visible).
/// </summary>
[global::System.ComponentModel.EditorBrowsable(global::System.ComponentModel.EditorBrowsableState.Never)] // plumbing of the generated code
public static class VMath
{
    /// <summary>e^x (Cephes expf): x = n·ln2 + r, a degree-6 polynomial for e^r, and 2^n through the exponent.
    /// Inputs are clamped to [−87.34, 88.38], so the result is finite and never denormal-producing NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Exp<TV, S>(TV x) where TV : struct where S : IVectorOps<TV>
    {
        x = S.MinBound(S.Create(88.3762626647949f), S.MaxBound(S.Create(-87.3365478515625f), x));
        TV n = S.Round(S.Mul(x, S.Create(1.44269504088896341f)));
        TV r = S.MulAdd(n, S.Create(-0.693359375f), x);
        r = S.MulAdd(n, S.Create(2.12194440e-4f), r);
        TV r2 = S.Mul(r, r);
        TV p = S.Create(1.9875691500E-4f);
        p = S.MulAdd(p, r, S.Create(1.3981999507E-3f));
        p = S.MulAdd(p, r, S.Create(8.3334519073E-3f));
        p = S.MulAdd(p, r, S.Create(4.1665795894E-2f));
        p = S.MulAdd(p, r, S.Create(1.6666665459E-1f));
        p = S.MulAdd(p, r, S.Create(5.0000001201E-1f));
        p = S.MulAdd(p, r2, S.Add(r, S.Create(1f)));
        return S.ScaleByPow2(p, n);
    }

    /// <summary>1 / (1 + e^−x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Sigmoid<TV, S>(TV x) where TV : struct where S : IVectorOps<TV>
        => S.Div(S.Create(1f), S.Add(S.Create(1f), Exp<TV, S>(S.Sub(S.Zero, x))));

    /// <summary>tanh(x) as a 13/6 rational approximation (Eigen's float tanh), clamped at ±7.9 where
    /// it rounds to ±1; exact to the last bits near zero, unlike 2·sigmoid(2x)−1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Tanh<TV, S>(TV x) where TV : struct where S : IVectorOps<TV>
    {
        x = S.MinBound(S.Create(7.90531110763549805f), S.MaxBound(S.Create(-7.90531110763549805f), x));
        TV x2 = S.Mul(x, x);
        TV p = S.Create(-2.76076847742355e-16f);
        p = S.MulAdd(p, x2, S.Create(2.00018790482477e-13f));
        p = S.MulAdd(p, x2, S.Create(-8.60467152213735e-11f));
        p = S.MulAdd(p, x2, S.Create(5.12229709037114e-08f));
        p = S.MulAdd(p, x2, S.Create(1.48572235717979e-05f));
        p = S.MulAdd(p, x2, S.Create(6.37261928875436e-04f));
        p = S.MulAdd(p, x2, S.Create(4.89352455891786e-03f));
        p = S.Mul(p, x);
        TV q = S.Create(1.19825839466702e-06f);
        q = S.MulAdd(q, x2, S.Create(1.18534705686654e-04f));
        q = S.MulAdd(q, x2, S.Create(2.26843463243900e-03f));
        q = S.MulAdd(q, x2, S.Create(4.89352518554385e-03f));
        return S.Div(p, q);
    }

    /// <summary>max(0, x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Relu<TV, S>(TV x) where TV : struct where S : IVectorOps<TV> => S.MaxBound(S.Zero, x);

    /// <summary>σ'(x) from the output s = σ(x): s·(1−s).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV SigmoidGrad<TV, S>(TV s) where TV : struct where S : IVectorOps<TV>
        => S.Mul(s, S.Sub(S.Create(1f), s));

    /// <summary>tanh'(x) from the output t = tanh(x): 1−t².</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV TanhGrad<TV, S>(TV t) where TV : struct where S : IVectorOps<TV>
        => S.MulAdd(S.Sub(S.Zero, t), t, S.Create(1f));

    /// <summary>ReLU'(x) from the output r = max(0, x): 1 where r &gt; 0, else 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV ReluGrad<TV, S>(TV r) where TV : struct where S : IVectorOps<TV>
        => S.And(S.GreaterThan(r, S.Zero), S.Create(1f));

    /// <summary>Leaky ReLU for a slope in [0, 1): max(x, slope·x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV LeakyRelu<TV, S>(TV x, TV slope) where TV : struct where S : IVectorOps<TV> => S.Max(x, S.Mul(slope, x));

    /// <summary>Leaky ReLU's derivative from its output y: 1 where y &gt; 0, else the slope.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV LeakyReluGrad<TV, S>(TV y, TV slope) where TV : struct where S : IVectorOps<TV>
        => S.Select(S.GreaterThan(y, S.Zero), S.Create(1f), slope);

    /// <summary>SiLU (swish): x·σ(x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Silu<TV, S>(TV x) where TV : struct where S : IVectorOps<TV> => S.Mul(x, Sigmoid<TV, S>(x));

    /// <summary>SiLU's derivative from its input x: σ(x)·(1 + x·(1 − σ(x))).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV SiluGrad<TV, S>(TV x) where TV : struct where S : IVectorOps<TV>
    {
        TV s = Sigmoid<TV, S>(x);
        return S.Mul(s, S.MulAdd(x, S.Sub(S.Create(1f), s), S.Create(1f)));
    }
}
