using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
#if !NET9_0_OR_GREATER
using System;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
#endif

namespace GraphGen.Simd;

/// <summary>SSE / NEON path: 4 images per vector; the portable vector fallback.</summary>
[global::System.ComponentModel.EditorBrowsable(global::System.ComponentModel.EditorBrowsableState.Never)] // plumbing of the generated code
public readonly struct Vec128 : IVectorOps<Vector128<float>>
{
    /// <inheritdoc/>
    public static int Lanes { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector128<float>.Count; }
    /// <inheritdoc/>
    public static Vector128<float> Zero { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector128<float>.Zero; }
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Create(float value) => Vector128.Create(value);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(ref float source, nuint offset) => Vector128.LoadUnsafe(ref source, offset);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<float> value, ref float destination, nuint offset) => value.StoreUnsafe(ref destination, offset);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Sub(Vector128<float> a, Vector128<float> b) => a - b;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Mul(Vector128<float> a, Vector128<float> b) => a * b;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Div(Vector128<float> a, Vector128<float> b) => a / b;
    /// <inheritdoc/>
#if NET9_0_OR_GREATER
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MulAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Vector128.MultiplyAddEstimate(a, b, c);
#else
    // .NET 8 has no MultiplyAddEstimate: the fused instruction where the CPU has one, as .NET 9+ picks it.
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MulAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c)
        => Fma.IsSupported ? Fma.MultiplyAdd(a, b, c) : AdvSimd.IsSupported ? AdvSimd.FusedMultiplyAdd(c, a, b) : a * b + c;
#endif
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Max(Vector128<float> a, Vector128<float> b) => Vector128.Max(a, b);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Min(Vector128<float> a, Vector128<float> b) => Vector128.Min(a, b);
    /// <inheritdoc/>
    // x86 maxps/minps return the second operand when one is NaN, so x goes second.
#if NET9_0_OR_GREATER
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MaxBound(Vector128<float> bound, Vector128<float> x) => Vector128.MaxNative(bound, x);
#else
    // .NET 8's Vector128.Max is the native instruction (MaxNative's NaN rule; .NET 9 made Max IEEE 754:2019).
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MaxBound(Vector128<float> bound, Vector128<float> x) => Vector128.Max(bound, x);
#endif
    /// <inheritdoc/>
#if NET9_0_OR_GREATER
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MinBound(Vector128<float> bound, Vector128<float> x) => Vector128.MinNative(bound, x);
#else
    // .NET 8's Vector128.Min is the native instruction, as MinNative.
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MinBound(Vector128<float> bound, Vector128<float> x) => Vector128.Min(bound, x);
#endif
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> GreaterThan(Vector128<float> a, Vector128<float> b) => Vector128.GreaterThan(a, b);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Equal(Vector128<float> a, Vector128<float> b) => Vector128.Equals(a, b);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Select(Vector128<float> mask, Vector128<float> ifTrue, Vector128<float> ifFalse) => Vector128.ConditionalSelect(mask, ifTrue, ifFalse);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> And(Vector128<float> mask, Vector128<float> value) => mask & value;
    /// <inheritdoc/>
#if NET9_0_OR_GREATER
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Round(Vector128<float> x) => Vector128.Round(x);
#else
    // .NET 8 has no Vector128.Round: the instruction that rounds to nearest even, else the halves (lanes).
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Round(Vector128<float> x)
        => Sse41.IsSupported ? Sse41.RoundToNearestInteger(x) : AdvSimd.IsSupported ? AdvSimd.RoundToNearest(x)
        : Vector128.Create(MathF.Round(x.GetElement(0)), MathF.Round(x.GetElement(1)), MathF.Round(x.GetElement(2)), MathF.Round(x.GetElement(3)));
#endif
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ScaleByPow2(Vector128<float> x, Vector128<float> n)
#if NET9_0_OR_GREATER
        => x * Vector128.ShiftLeft(Vector128.ConvertToInt32Native(n) + Vector128.Create(127), 23).AsSingle();
#else
        // .NET 8's ConvertToInt32 is the native conversion (n is already an integer here).
        => x * Vector128.ShiftLeft(Vector128.ConvertToInt32(n) + Vector128.Create(127), 23).AsSingle();
#endif
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector128<float> v) => Vector128.Sum(v);
}
