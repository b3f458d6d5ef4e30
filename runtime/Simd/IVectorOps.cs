using System.Runtime.CompilerServices;

namespace GraphGen.Simd;

/// <summary>
/// The vector operations the generated kernels are written against. Every kernel the generator
/// emits is a generic method over <c>&lt;TV, S&gt;</c> where <c>S : IVectorOps&lt;TV&gt;</c>; the JIT
/// specializes it for each struct below, so one emitted body becomes an explicit AVX-512
/// (<see cref="Vec512"/>), AVX2 (<see cref="Vec256"/>), SSE/NEON (<see cref="Vec128"/>) and scalar
/// (<see cref="VecScalar"/>) path with no virtual calls. A vector holds the same feature of
/// <see cref="Lanes"/> consecutive images of a batch (the "batch in lanes" layout), so every layer is
/// lane-wise and needs no shuffles.
/// </summary>
[global::System.ComponentModel.EditorBrowsable(global::System.ComponentModel.EditorBrowsableState.Never)] // plumbing of the generated code
public interface IVectorOps<TV> where TV : struct
{
    /// <summary>Images per vector.</summary>
    static abstract int Lanes { get; }
    /// <summary>All lanes zero.</summary>
    static abstract TV Zero { get; }
    /// <summary>All lanes <paramref name="value"/>.</summary>
    static abstract TV Create(float value);
    /// <summary>Loads <see cref="Lanes"/> floats at <paramref name="source"/> + <paramref name="offset"/> (no bounds check).</summary>
    static abstract TV Load(ref float source, nuint offset);
    /// <summary>Stores <see cref="Lanes"/> floats at <paramref name="destination"/> + <paramref name="offset"/> (no bounds check).</summary>
    static abstract void Store(TV value, ref float destination, nuint offset);
    /// <summary>a + b.</summary>
    static abstract TV Add(TV a, TV b);
    /// <summary>a − b.</summary>
    static abstract TV Sub(TV a, TV b);
    /// <summary>a · b.</summary>
    static abstract TV Mul(TV a, TV b);
    /// <summary>a / b.</summary>
    static abstract TV Div(TV a, TV b);
    /// <summary>a · b + c; one fused instruction where the hardware has FMA.</summary>
    static abstract TV MulAdd(TV a, TV b, TV c);
    /// <summary>Lane-wise maximum.</summary>
    static abstract TV Max(TV a, TV b);
    /// <summary>Lane-wise minimum.</summary>
    static abstract TV Min(TV a, TV b);
    /// <summary>max(bound, x) in one instruction where the hardware has one; a NaN in
    /// <paramref name="x"/> propagates (the bound must not be NaN).</summary>
    static abstract TV MaxBound(TV bound, TV x);
    /// <summary>min(bound, x), likewise; a NaN in <paramref name="x"/> propagates.</summary>
    static abstract TV MinBound(TV bound, TV x);
    /// <summary>All-ones in lanes where a &gt; b, zero elsewhere.</summary>
    static abstract TV GreaterThan(TV a, TV b);
    /// <summary>All-ones in lanes where a == b, zero elsewhere.</summary>
    static abstract TV Equal(TV a, TV b);
    /// <summary>Lanes of <paramref name="ifTrue"/> where <paramref name="mask"/> is all-ones, else of <paramref name="ifFalse"/>.</summary>
    static abstract TV Select(TV mask, TV ifTrue, TV ifFalse);
    /// <summary>Bitwise and (masks a value to zero).</summary>
    static abstract TV And(TV mask, TV value);
    /// <summary>Round to nearest integer (ties to even).</summary>
    static abstract TV Round(TV x);
    /// <summary>x · 2^n for integral n in [−126, 127] (n out of range or NaN is not checked).</summary>
    static abstract TV ScaleByPow2(TV x, TV n);
    /// <summary>Sum of all lanes, in a fixed order.</summary>
    static abstract float Sum(TV v);
}
