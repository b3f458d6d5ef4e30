using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GraphGen.Execution;

/// <summary>The non-generated pieces of a training step: the loss and the SGD update. Both are
/// small next to the convolutions, so they are written once here, tested directly, and called by
/// the generated code.</summary>
[global::System.ComponentModel.EditorBrowsable(global::System.ComponentModel.EditorBrowsableState.Never)] // plumbing of the generated code
public static class Kernels
{
    /// <summary>
    /// Softmax cross-entropy for one chunk. <paramref name="logits"/> and <paramref name="gradient"/>
    /// are [class][lane]; <paramref name="labels"/> are the chunk's labels. Computes in double:
    /// loss = log Σ exp(z − max) + max − z[label]. Writes dL/dz = (softmax − onehot) · invBatch, which
    /// is the gradient of the batch-mean loss, and zero in the lanes past the batch.
    /// </summary>
    public static (double Loss, int Correct) SoftmaxCrossEntropy(ReadOnlySpan<float> logits, int classes, int lanes, int valid,
        ReadOnlySpan<int> labels, float invBatch, Span<float> gradient)
    {
        double loss = 0;
        int correct = 0;
        for (int l = 0; l < lanes; l++)
        {
            if (l >= valid)
            {
                for (int c = 0; c < classes; c++) gradient[c * lanes + l] = 0f;
                continue;
            }
            float max = logits[l];
            int arg = 0;
            for (int c = 1; c < classes; c++)
            {
                float z = logits[c * lanes + l];
                if (z > max) { max = z; arg = c; }
            }
            double sum = 0;
            for (int c = 0; c < classes; c++) sum += Math.Exp(logits[c * lanes + l] - (double)max);
            int label = labels[l];
            loss += Math.Log(sum) + max - logits[label * lanes + l];
            if (arg == label) correct++;
            for (int c = 0; c < classes; c++)
            {
                double p = Math.Exp(logits[c * lanes + l] - (double)max) / sum;
                gradient[c * lanes + l] = (float)((p - (c == label ? 1.0 : 0.0)) * invBatch);
            }
        }
        return (loss, correct);
    }

    /// <summary>w −= lr · g. Returns false if any updated weight is NaN or ±∞.</summary>
    public static bool SgdStep(Span<float> weights, ReadOnlySpan<float> gradient, float learningRate)
    {
        if (weights.Length != gradient.Length) throw new ArgumentException("weights and gradient differ in length");
        int i = 0;
        var lr = new Vector<float>(learningRate);
        var guard = Vector<float>.Zero;
        ref float w = ref MemoryMarshal.GetReference(weights);
        ref float g = ref MemoryMarshal.GetReference(gradient);
        for (; i + Vector<float>.Count <= weights.Length; i += Vector<float>.Count)
        {
            var v = Vector.LoadUnsafe(ref w, (nuint)i) - lr * Vector.LoadUnsafe(ref g, (nuint)i);
            v.StoreUnsafe(ref w, (nuint)i);
            guard += v * Vector<float>.Zero; // NaN where v is NaN or ±∞
        }
        float tail = 0f;
        for (; i < weights.Length; i++)
        {
            float v = Unsafe.Add(ref w, i) - learningRate * Unsafe.Add(ref g, i);
            Unsafe.Add(ref w, i) = v;
            tail += v * 0f;
        }
        return Vector.Sum(guard) == 0f && tail == 0f;
    }

    /// <summary>Sums per-chunk partial gradients [chunk][stride] into <paramref name="destination"/>
    /// pairwise, in place, in a fixed tree (chunk c + s is added into chunk c for s = 1, 2, 4, …), then copies
    /// chunk 0. The rounding error grows with log2(chunks) rather than with chunks (a convolution's weight
    /// gradient after batch norm is a sum of terms that cancel, over hundreds of chunks on narrow paths), and
    /// the order does not depend on which thread produced which chunk. The partials are overwritten.</summary>
    public static void SumChunks(Span<float> partials, long stride, int chunks, Span<float> destination, int offset = 0)
    {
        int n = destination.Length;
        for (long s = 1; s < chunks; s *= 2)
        {
            for (long c = 0; c + s < chunks; c += 2 * s)
            {
                Span<float> into = partials.Slice(checked((int)(c * stride)) + offset, n);
                ReadOnlySpan<float> p = partials.Slice(checked((int)((c + s) * stride)) + offset, n);
                int i = 0;
                for (; i + Vector<float>.Count <= n; i += Vector<float>.Count)
                    (new Vector<float>(into.Slice(i)) + new Vector<float>(p.Slice(i))).CopyTo(into.Slice(i));
                for (; i < n; i++) into[i] += p[i];
            }
        }
        partials.Slice(offset, n).CopyTo(destination);
    }

    /// <summary>True when every value is finite.</summary>
    public static bool AllFinite(ReadOnlySpan<float> values)
    {
        foreach (float v in values) if (!float.IsFinite(v)) return false;
        return true;
    }

    /// <summary>Zeroes lanes valid..lanes−1 of <paramref name="features"/> consecutive lane groups.</summary>
    public static void ZeroInvalidLanes(Span<float> region, long features, int lanes, int valid)
    {
        if (valid >= lanes) return;
        for (long f = 0; f < features; f++)
            region.Slice((int)(f * lanes) + valid, lanes - valid).Clear();
    }

    /// <summary>Copies a [C][H][W][lanes] chunk into the interior of a zero-bordered
    /// [C][H+2p][W+2p][lanes] chunk (the border is written as zeros too).</summary>
    public static void Pad(ReadOnlySpan<float> source, Span<float> destination, int channels, int height, int width, int padding, int lanes) =>
        Pad(source, destination, channels, height, width, padding, padding, lanes);

    /// <summary>As <see cref="Pad(ReadOnlySpan{float}, Span{float}, int, int, int, int, int)"/> with
    /// <paramref name="paddingHeight"/> zero rows above and below and <paramref name="paddingWidth"/> zero
    /// columns left and right: a [C][H+2ph][W+2pw][lanes] chunk.</summary>
    public static void Pad(ReadOnlySpan<float> source, Span<float> destination, int channels, int height, int width, int paddingHeight, int paddingWidth, int lanes)
    {
        int hp = height + 2 * paddingHeight, wp = width + 2 * paddingWidth;
        destination.Slice(0, channels * hp * wp * lanes).Clear();
        for (int c = 0; c < channels; c++)
            for (int h = 0; h < height; h++)
                source.Slice(((c * height + h) * width) * lanes, width * lanes)
                    .CopyTo(destination.Slice(((c * hp + h + paddingHeight) * wp + paddingWidth) * lanes));
    }

    /// <summary>The inverse of <see cref="Pad(ReadOnlySpan{float}, Span{float}, int, int, int, int, int)"/> for gradients: copies the interior back.</summary>
    public static void Crop(ReadOnlySpan<float> source, Span<float> destination, int channels, int height, int width, int padding, int lanes) =>
        Crop(source, destination, channels, height, width, padding, padding, lanes);

    /// <summary>The inverse of the per-axis <see cref="Pad(ReadOnlySpan{float}, Span{float}, int, int, int, int, int, int)"/>.</summary>
    public static void Crop(ReadOnlySpan<float> source, Span<float> destination, int channels, int height, int width, int paddingHeight, int paddingWidth, int lanes)
    {
        int hp = height + 2 * paddingHeight, wp = width + 2 * paddingWidth;
        for (int c = 0; c < channels; c++)
            for (int h = 0; h < height; h++)
                source.Slice(((c * hp + h + paddingHeight) * wp + paddingWidth) * lanes, width * lanes)
                    .CopyTo(destination.Slice(((c * height + h) * width) * lanes));
    }

    /// <summary>As <see cref="Crop(ReadOnlySpan{float}, Span{float}, int, int, int, int, int)"/>, but adds the interior to <paramref name="destination"/>: the input
    /// gradient of a padded convolution whose input another layer also reads.</summary>
    public static void CropAdd(ReadOnlySpan<float> source, Span<float> destination, int channels, int height, int width, int padding, int lanes) =>
        CropAdd(source, destination, channels, height, width, padding, padding, lanes);

    /// <summary>The per-axis form of <see cref="CropAdd(ReadOnlySpan{float}, Span{float}, int, int, int, int, int)"/>.</summary>
    public static void CropAdd(ReadOnlySpan<float> source, Span<float> destination, int channels, int height, int width, int paddingHeight, int paddingWidth, int lanes)
    {
        int hp = height + 2 * paddingHeight, wp = width + 2 * paddingWidth;
        for (int c = 0; c < channels; c++)
            for (int h = 0; h < height; h++)
                Accumulate(source.Slice(((c * hp + h + paddingHeight) * wp + paddingWidth) * lanes, width * lanes),
                    destination.Slice(((c * height + h) * width) * lanes, width * lanes));
    }

    /// <summary>destination[i] += source[i] over the length of <paramref name="source"/>: gradients of
    /// a value that several layers read are summed into one buffer, in a fixed order.</summary>
    public static void Accumulate(ReadOnlySpan<float> source, Span<float> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException("destination is shorter than source", nameof(destination));
        int i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            int width = System.Numerics.Vector<float>.Count;
            for (; i <= source.Length - width; i += width)
                (new System.Numerics.Vector<float>(source.Slice(i)) + new System.Numerics.Vector<float>(destination.Slice(i))).CopyTo(destination.Slice(i));
        }
        for (; i < source.Length; i++) destination[i] += source[i];
    }

    /// <summary>Dropout forward for one chunk of <paramref name="lanes"/> samples laid out [features][lanes]:
    /// writes the mask (1/(1 − rate) where kept, 0 where dropped) and z = x·mask. Value (f, lane) belongs to
    /// sample chunk·lanes + lane of the batch; whether it is kept is <see cref="DropoutKeeps"/>, so the
    /// masks do not depend on the vector width or the thread count.</summary>
    public static void Dropout(ReadOnlySpan<float> x, Span<float> z, Span<float> mask, long features, int lanes, int chunk,
        int seed, long step, int layer, float rate)
    {
        float scale = 1f / (1f - rate);
        for (long f = 0; f < features; f++)
            for (int lane = 0; lane < lanes; lane++)
            {
                int i = (int)(f * lanes) + lane;
                float m = DropoutKeeps(seed, step, layer, chunk * lanes + lane, f, rate) ? scale : 0f;
                mask[i] = m;
                z[i] = x[i] * m;
            }
    }

    /// <summary>Whether dropout layer <paramref name="layer"/> keeps value <paramref name="feature"/> of sample
    /// <paramref name="sample"/> at training step <paramref name="step"/>: a SplitMix64 hash of the five numbers,
    /// whose top 24 bits as a fraction of 2^24 are compared with <paramref name="rate"/> (kept when not below it).</summary>
    public static bool DropoutKeeps(int seed, long step, int layer, int sample, long feature, float rate)
    {
        ulong h = (ulong)(uint)seed;
        h = Mix(h ^ (ulong)step);
        h = Mix(h ^ (ulong)(uint)layer);
        h = Mix(h ^ (ulong)(uint)sample);
        h = Mix(h ^ (ulong)feature);
        return (h >> 40) * (1.0 / (1 << 24)) >= rate;

        static ulong Mix(ulong v)
        {
            v += 0x9E3779B97F4A7C15UL;
            v = (v ^ (v >> 30)) * 0xBF58476D1CE4E5B9UL;
            v = (v ^ (v >> 27)) * 0x94D049BB133111EBUL;
            return v ^ (v >> 31);
        }
    }

    /// <summary>destination = source·mask (or destination += source·mask): dropout's backward pass.</summary>
    public static void MultiplyInto(ReadOnlySpan<float> source, ReadOnlySpan<float> mask, Span<float> destination, bool accumulate)
    {
        if (accumulate)
            for (int i = 0; i < source.Length; i++) destination[i] += source[i] * mask[i];
        else
            for (int i = 0; i < source.Length; i++) destination[i] = source[i] * mask[i];
    }
}
