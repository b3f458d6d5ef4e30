using System;
using System.Collections.Generic;
using GraphGen.Execution;

namespace GraphGen.Data;

/// <summary>
/// Per-sample image augmentation and normalization, applied by <see cref="BatchLoader"/>: a random crop of the
/// image padded with <see cref="CropPadding"/> zeros on every side (torchvision's RandomCrop(size, padding)), a random
/// horizontal flip, then (value - mean) / std per channel (Normalize). Byte pixels are first scaled by 1/255.
/// The random choices for a sample depend only on (seed, epoch, the sample's index in the data set): the same
/// on every machine, for any batch size and any number of threads.
/// </summary>
public sealed class Augmentation
{
    /// <summary>Zeros padded on each side before a crop of the original size is taken at a random offset
    /// (each of dy, dx uniform in -CropPadding..CropPadding). 0: no crop. Needs [C, H, W] samples.</summary>
    public int CropPadding { get; init; }
    /// <summary>Mirror the image left to right with probability 1/2. Needs [C, H, W] samples.</summary>
    public bool HorizontalFlip { get; init; }
    /// <summary>Subtracted per channel (Shape[0] values: C for images, one per feature for a flat table), or one
    /// value for all; null: no normalization. Applies to values after the 1/255 scaling of byte pixels.</summary>
    public IReadOnlyList<float>? Mean { get; init; }
    /// <summary>Divides per channel after <see cref="Mean"/> is subtracted; as many values as Mean, all positive.</summary>
    public IReadOnlyList<float>? Std { get; init; }

    /// <summary>Throws unless this augmentation fits samples of <paramref name="shape"/>.</summary>
    /// <exception cref="ArgumentException">Crop or flip on a shape that is not [C, H, W], a padding that is negative,
    /// mean and std of different or wrong lengths, or a std that is not positive and finite.</exception>
    public void Validate(IReadOnlyList<int> shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (CropPadding < 0) throw new ArgumentException($"CropPadding is {CropPadding}; it must not be negative", nameof(shape));
        if ((CropPadding > 0 || HorizontalFlip) && shape.Count != 3)
            throw new ArgumentException($"random crop and flip need images shaped [C, H, W]; the samples are shaped [{string.Join(", ", shape)}]", nameof(shape));
        if ((Mean is null) != (Std is null)) throw new ArgumentException("give both Mean and Std, or neither", nameof(shape));
        if (Mean is null || Std is null) return;
        if (Mean.Count != Std.Count) throw new ArgumentException($"Mean has {Mean.Count} values and Std {Std.Count}; they must match", nameof(shape));
        if (Mean.Count != 1 && Mean.Count != shape[0])
            throw new ArgumentException($"Mean and Std have {Mean.Count} values; samples shaped [{string.Join(", ", shape)}] need {shape[0]} (one per channel) or 1", nameof(shape));
        for (int c = 0; c < Std.Count; c++)
        {
            if (!(Std[c] > 0) || !float.IsFinite(Std[c]) || !float.IsFinite(Mean[c]))
                throw new ArgumentException($"channel {c}: mean {Mean[c]} and std {Std[c]} must be finite and std positive", nameof(shape));
        }
    }

    /// <summary>Writes sample <paramref name="index"/> of <paramref name="data"/>, augmented for (<paramref name="seed"/>,
    /// <paramref name="epoch"/>) and normalized, to <paramref name="destination"/> (<see cref="Dataset.SampleSize"/> floats).</summary>
    /// <exception cref="ArgumentException">The augmentation does not fit the data set's shape (see <see cref="Validate"/>),
    /// or <paramref name="destination"/> is shorter than a sample.</exception>
    public void Apply(Dataset data, int index, int seed, int epoch, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(data);
        Validate(data.Shape);
        if (destination.Length < data.SampleSize)
            throw new ArgumentException($"a sample has {data.SampleSize} values, the destination holds {destination.Length}", nameof(destination));
        Apply(data, index, seed, epoch, destination, data.IsBytes ? new float[data.SampleSize] : default);
    }

    // As Apply; scratch holds SampleSize floats for byte data sets (reused across calls by BatchLoader).
    internal void Apply(Dataset data, int index, int seed, int epoch, Span<float> destination, Span<float> scratch)
    {
        var (dy, dx, flip) = Draw(seed, epoch, index);
        ReadOnlySpan<float> sample;
        if (data.IsBytes)
        {
            Dataset.ToFloats(data.Image(index), scratch);
            sample = scratch[..data.SampleSize];
        }
        else
        {
            sample = data.Sample(index);
        }
        Transform(sample, data.Shape, dy, dx, flip, destination);
    }

    /// <summary>A float copy of <paramref name="data"/> with only the normalization applied (no crop, no flip):
    /// what a validation or test set needs to match the training batches.</summary>
    public Dataset Normalize(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        Validate(data.Shape);
        var values = new float[(long)data.Count * data.SampleSize];
        var labels = new int[data.Count];
        var indices = new int[data.Count];
        for (int i = 0; i < indices.Length; i++) indices[i] = i;
        data.Gather(indices, values, labels);
        int per = data.SampleSize / data.Shape[0];
        for (int i = 0; i < data.Count; i++) Normalize(values.AsSpan(i * data.SampleSize, data.SampleSize), per);
        return new Dataset(values, labels, [.. data.Shape]) { ClassNames = data.ClassNames };
    }

    /// <summary>Per-channel mean and standard deviation (population, over every sample and position) of the values the
    /// network sees (byte pixels scaled by 1/255), computed in double: the usual way to choose <see cref="Mean"/> and <see cref="Std"/>.</summary>
    /// <exception cref="ArgumentException">The data set is empty.</exception>
    public static (float[] Mean, float[] Std) Statistics(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Count == 0) throw new ArgumentException("the data set is empty", nameof(data));
        int channels = data.Shape[0], per = data.SampleSize / channels;
        var sum = new double[channels];
        var squares = new double[channels];
        ReadOnlySpan<byte> pixels = data.IsBytes ? data.Pixels : default;
        ReadOnlySpan<float> values = data.IsBytes ? default : data.Values;
        for (int i = 0, k = 0; i < data.Count; i++)
        {
            for (int j = 0; j < data.SampleSize; j++, k++)
            {
                double v = data.IsBytes ? pixels[k] / 255.0 : values[k];
                sum[j / per] += v;
                squares[j / per] += v * v;
            }
        }
        var mean = new float[channels];
        var std = new float[channels];
        double n = (double)data.Count * per;
        for (int c = 0; c < channels; c++)
        {
            double m = sum[c] / n;
            mean[c] = (float)m;
            std[c] = (float)Math.Sqrt(Math.Max(0, squares[c] / n - m * m));
        }
        return (mean, std);
    }

    /// <summary>The random choices for one sample: the crop offset (dy, dx) and whether to flip. Drawn in that order
    /// from a SplitMix64 stream seeded by (seed, epoch, index); a choice that is off draws nothing.</summary>
    internal (int Dy, int Dx, bool Flip) Draw(int seed, int epoch, int index)
    {
        ulong key = ((ulong)(uint)seed << 32 | (uint)epoch) * 0x9E3779B97F4A7C15UL ^ (ulong)(uint)index * 0xC2B2AE3D27D4EB4FUL;
        var rng = new SplitMix64((long)key);
        int dy = 0, dx = 0;
        if (CropPadding > 0)
        {
            dy = rng.NextInt(2 * CropPadding + 1) - CropPadding;
            dx = rng.NextInt(2 * CropPadding + 1) - CropPadding;
        }
        bool flip = HorizontalFlip && (rng.NextUInt64() >> 63) == 1;
        return (dy, dx, flip);
    }

    /// <summary>out[c, y, x] = in[c, y + dy, x' + dx] with x' = W-1-x when flipped, else x; 0 outside the image; then normalized.</summary>
    /// <summary>out[c, y, x] = in[c, y + dy, x' + dx] with x' = W-1-x when flipped, else x; 0 outside the image; then normalized.</summary>
    internal void Transform(ReadOnlySpan<float> source, IReadOnlyList<int> shape, int dy, int dx, bool flip, Span<float> destination)
    {
        if (shape.Count != 3 || (dy == 0 && dx == 0 && !flip))
        {
            source.CopyTo(destination);
        }
        else
        {
            int channels = shape[0], height = shape[1], width = shape[2];
            for (int c = 0; c < channels; c++)
            {
                for (int y = 0; y < height; y++)
                {
                    int sy = y + dy;
                    for (int x = 0; x < width; x++)
                    {
                        int sx = (flip ? width - 1 - x : x) + dx;
                        destination[(c * height + y) * width + x] =
                            sy >= 0 && sy < height && sx >= 0 && sx < width ? source[(c * height + sy) * width + sx] : 0f;
                    }
                }
            }
        }
        Normalize(destination.Slice(0, source.Length), source.Length / shape[0]);
    }

    // (v - mean[c]) / std[c], channel c holding `per` consecutive values.
    private void Normalize(Span<float> values, int per)
    {
        if (Mean is null || Std is null) return;
        for (int i = 0; i < values.Length; i++)
        {
            int c = Mean.Count == 1 ? 0 : i / per;
            values[i] = (values[i] - Mean[c]) / Std[c];
        }
    }
}
