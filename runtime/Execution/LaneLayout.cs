using System;
using System.Runtime.CompilerServices;

namespace GraphGen.Execution;

/// <summary>
/// Moves a batch between the user's row-major layout (image after image) and the kernels'
/// "batch in lanes" layout: chunks of <c>lanes</c> images, each chunk stored feature-major with the
/// lanes innermost ([chunk][feature][lane]). Lanes past the end of the batch are zero.
/// </summary>
[global::System.ComponentModel.EditorBrowsable(global::System.ComponentModel.EditorBrowsableState.Never)] // plumbing of the generated code
public static class LaneLayout
{
    /// <summary>True when no value is NaN or ±∞ (x·0 is 0 exactly for finite x).</summary>
    public static bool AllFinite(ReadOnlySpan<float> values)
    {
        var guard = System.Numerics.Vector<float>.Zero;
        int i = 0;
        for (; i + System.Numerics.Vector<float>.Count <= values.Length; i += System.Numerics.Vector<float>.Count)
            guard += new System.Numerics.Vector<float>(values.Slice(i)) * System.Numerics.Vector<float>.Zero;
        float tail = 0f;
        for (; i < values.Length; i++) tail += values[i] * 0f;
        return System.Numerics.Vector.Sum(guard) == 0f && tail == 0f;
    }

    /// <summary>Packs float inputs (the caller checks them with <see cref="AllFinite"/> first).</summary>
    public static void Pack(ReadOnlySpan<float> source, int batch, int features, int lanes, Span<float> destination, long chunkStride)
    {
        for (int c = 0; c * lanes < batch; c++) PackChunk(source, c, batch, features, lanes, destination.Slice((int)(c * chunkStride)));
    }

    /// <summary>Packs byte inputs (pixels), scaling each by <paramref name="scale"/>.</summary>
    public static void Pack(ReadOnlySpan<byte> source, float scale, int batch, int features, int lanes, Span<float> destination, long chunkStride)
    {
        for (int c = 0; c * lanes < batch; c++) PackChunk(source, scale, c, batch, features, lanes, destination.Slice((int)(c * chunkStride)));
    }

    /// <summary>Packs one chunk (images chunk·lanes onwards, of <paramref name="count"/> in all) from a
    /// staged row-major batch; lanes past the batch are zero.</summary>
    public static void PackChunk(ReadOnlySpan<float> staged, int chunk, int count, int features, int lanes, Span<float> destination)
    {
        int valid = Valid(chunk, count, lanes);
        Span<float> dst = destination.Slice(0, features * lanes);
        if (valid < lanes) dst.Clear();
        for (int l = 0; l < valid; l++)
        {
            ReadOnlySpan<float> img = staged.Slice((chunk * lanes + l) * features, features);
            for (int f = 0; f < features; f++) dst[f * lanes + l] = img[f];
        }
    }

    /// <summary>As <see cref="PackChunk(ReadOnlySpan{float}, int, int, int, int, Span{float})"/> for byte pixels, scaled.</summary>
    public static void PackChunk(ReadOnlySpan<byte> staged, float scale, int chunk, int count, int features, int lanes, Span<float> destination)
    {
        int valid = Valid(chunk, count, lanes);
        Span<float> dst = destination.Slice(0, features * lanes);
        if (valid < lanes) dst.Clear();
        for (int l = 0; l < valid; l++)
        {
            ReadOnlySpan<byte> img = staged.Slice((chunk * lanes + l) * features, features);
            for (int f = 0; f < features; f++) dst[f * lanes + l] = img[f] * scale;
        }
    }

    /// <summary>Unpacks <paramref name="batch"/> rows of <paramref name="features"/> values.</summary>
    public static void Unpack(ReadOnlySpan<float> source, long chunkStride, int batch, int features, int lanes, Span<float> destination)
    {
        for (int n = 0; n < batch; n++)
        {
            int c = n / lanes, l = n % lanes;
            ReadOnlySpan<float> src = source.Slice((int)(c * chunkStride), features * lanes);
            Span<float> row = destination.Slice(n * features, features);
            for (int f = 0; f < features; f++) row[f] = src[f * lanes + l];
        }
    }

    /// <summary>1.0 in the lanes of <paramref name="chunk"/> that hold an image of the batch, else 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Valid(int chunk, int batch, int lanes) => Math.Clamp(batch - chunk * lanes, 0, lanes);
}
