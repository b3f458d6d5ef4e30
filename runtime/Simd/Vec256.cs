using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
#if !NET9_0_OR_GREATER
using System.Runtime.Intrinsics.X86;
#endif

namespace GraphGen.Simd;

/// <summary>AVX2 path: 8 images per vector.</summary>
[global::System.ComponentModel.EditorBrowsable(global::System.ComponentModel.EditorBrowsableState.Never)] // plumbing of the generated code
public readonly struct Vec256 : IVectorOps<Vector256<float>>
{
    /// <inheritdoc/>
    public static int Lanes { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector256<float>.Count; }
    /// <inheritdoc/>
    public static Vector256<float> Zero { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector256<float>.Zero; }
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Create(float value) => Vector256.Create(value);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(ref float source, nuint offset) => Vector256.LoadUnsafe(ref source, offset);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<float> value, ref float destination, nuint offset) => value.StoreUnsafe(ref destination, offset);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Sub(Vector256<float> a, Vector256<float> b) => a - b;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Mul(Vector256<float> a, Vector256<float> b) => a * b;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Div(Vector256<float> a, Vector256<float> b) => a / b;
    /// <inheritdoc/>
#if NET9_0_OR_GREATER
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MulAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.MultiplyAddEstimate(a, b, c);
#else
    // .NET 8 has no MultiplyAddEstimate: the fused instruction where the CPU has one, as .NET 9+ picks it.
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MulAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c)
        => Fma.IsSupported ? Fma.MultiplyAdd(a, b, c) : Vector256.Create(Vec128.MulAdd(a.GetLower(), b.GetLower(), c.GetLower()), Vec128.MulAdd(a.GetUpper(), b.GetUpper(), c.GetUpper()));
#endif
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Vector256.Max(a, b);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Min(Vector256<float> a, Vector256<float> b) => Vector256.Min(a, b);
    /// <inheritdoc/>
    // x86 maxps/minps return the second operand when one is NaN, so x goes second.
#if NET9_0_OR_GREATER
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MaxBound(Vector256<float> bound, Vector256<float> x) => Vector256.MaxNative(bound, x);
#else
    // .NET 8's Vector256.Max is the native instruction (MaxNative's NaN rule; .NET 9 made Max IEEE 754:2019).
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MaxBound(Vector256<float> bound, Vector256<float> x) => Vector256.Max(bound, x);
#endif
    /// <inheritdoc/>
#if NET9_0_OR_GREATER
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MinBound(Vector256<float> bound, Vector256<float> x) => Vector256.MinNative(bound, x);
#else
    // .NET 8's Vector256.Min is the native instruction, as MinNative.
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MinBound(Vector256<float> bound, Vector256<float> x) => Vector256.Min(bound, x);
#endif
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> GreaterThan(Vector256<float> a, Vector256<float> b) => Vector256.GreaterThan(a, b);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Equal(Vector256<float> a, Vector256<float> b) => Vector256.Equals(a, b);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Select(Vector256<float> mask, Vector256<float> ifTrue, Vector256<float> ifFalse) => Vector256.ConditionalSelect(mask, ifTrue, ifFalse);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> And(Vector256<float> mask, Vector256<float> value) => mask & value;
    /// <inheritdoc/>
#if NET9_0_OR_GREATER
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Round(Vector256<float> x) => Vector256.Round(x);
#else
    // .NET 8 has no Vector256.Round: the instruction that rounds to nearest even, else the halves (lanes).
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Round(Vector256<float> x)
        => Avx.IsSupported ? Avx.RoundToNearestInteger(x) : Vector256.Create(Vec128.Round(x.GetLower()), Vec128.Round(x.GetUpper()));
#endif
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ScaleByPow2(Vector256<float> x, Vector256<float> n)
#if NET9_0_OR_GREATER
        => x * Vector256.ShiftLeft(Vector256.ConvertToInt32Native(n) + Vector256.Create(127), 23).AsSingle();
#else
        // .NET 8's ConvertToInt32 is the native conversion (n is already an integer here).
        => x * Vector256.ShiftLeft(Vector256.ConvertToInt32(n) + Vector256.Create(127), 23).AsSingle();
#endif
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector256<float> v) => Vector256.Sum(v);
}
