using System;
using System.Collections.Generic;

namespace GraphGen.Data;

/// <summary>
/// Labelled samples of one shape, as a network declares it: [C, H, W] for images, [features] for a table.
/// The values are either byte pixels (0..255, which the network divides by 255: the fast path for images)
/// or floats used as they are; samples lie one after another, each row-major (C×H×W planar for images).
/// Arrays passed in are owned by the data set, not copied; spans are copied once.
/// </summary>
public sealed class Dataset
{
    private readonly byte[]? _bytes;
    private readonly float[]? _floats;
    private readonly int[] _labels;
    private readonly int[] _shape;

    /// <summary>Wraps grey-scale images: <paramref name="pixels"/> (labels.Length * rows * columns bytes) and
    /// <paramref name="labels"/> (non-negative). The shape is [1, rows, columns].</summary>
    /// <exception cref="ArgumentException">The lengths disagree, a size is not positive, or a label is negative.</exception>
    public Dataset(byte[] pixels, int[] labels, int rows, int columns)
        : this(pixels ?? throw new ArgumentNullException(nameof(pixels)), null, labels, [1, ThrowIfNotPositive(rows, nameof(rows)), ThrowIfNotPositive(columns, nameof(columns))])
    {
    }

    /// <summary>Wraps byte samples of <paramref name="shape"/> (e.g. [3, 32, 32]): labels.Length * (product of shape) bytes,
    /// each divided by 255 by the network.</summary>
    /// <exception cref="ArgumentException">The lengths disagree, the shape is empty or has a size that is not positive, or a label is negative.</exception>
    public Dataset(byte[] pixels, int[] labels, int[] shape) : this(pixels ?? throw new ArgumentNullException(nameof(pixels)), null, labels, shape)
    {
    }

    /// <summary>Wraps float samples of <paramref name="shape"/> ([C, H, W] or [features]): labels.Length * (product of shape)
    /// values, used as they are. Every value must be finite.</summary>
    /// <exception cref="ArgumentException">The lengths disagree, the shape is empty or has a size that is not positive,
    /// a value is NaN or infinite, or a label is negative.</exception>
    public Dataset(float[] values, int[] labels, int[] shape) : this(null, values ?? throw new ArgumentNullException(nameof(values)), labels, shape)
    {
    }

    private Dataset(byte[]? bytes, float[]? floats, int[] labels, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length == 0) throw new ArgumentException("the sample shape is empty: give [C, H, W] or [features]", nameof(shape));
        long size = 1;
        foreach (int d in shape)
        {
            if (d <= 0) throw new ArgumentException($"the sample shape [{string.Join(", ", shape)}] has a size that is not positive", nameof(shape));
            size *= d;
            if (size > Array.MaxLength) throw new ArgumentException($"the sample shape [{string.Join(", ", shape)}] is larger than an array can hold", nameof(shape));
        }
        long expected = labels.Length * size, length = bytes?.Length ?? floats!.Length;
        string what = bytes is null ? "values" : "pixel bytes";
        if (length != expected)
            throw new ArgumentException($"{labels.Length} labels of samples shaped [{string.Join(", ", shape)}] need {expected} {what}, got {length}.",
                bytes is null ? nameof(floats) : nameof(bytes));
        int bad = Array.FindIndex(labels, l => l < 0);
        if (bad >= 0)
            throw new ArgumentException($"Label {labels[bad]} at index {bad} is negative.", nameof(labels));
        if (floats is not null)
        {
            int nonFinite = Array.FindIndex(floats, v => !float.IsFinite(v));
            if (nonFinite >= 0)
                throw new ArgumentException($"Value {floats[nonFinite]} of sample {nonFinite / size} (index {nonFinite % size} within it) is not finite.", nameof(floats));
        }
        _bytes = bytes;
        _floats = floats;
        _labels = labels;
        _shape = (int[])shape.Clone();
        SampleSize = (int)size;
    }

    private static int ThrowIfNotPositive(int value, string name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value, name);
        return value;
    }

    /// <summary>A data set holding a copy of <paramref name="values"/> (the only copy made) and of <paramref name="labels"/>.</summary>
    /// <exception cref="ArgumentException">As the float[] constructor.</exception>
    public static Dataset FromSpans(ReadOnlySpan<float> values, ReadOnlySpan<int> labels, ReadOnlySpan<int> shape) =>
        new(values.ToArray(), labels.ToArray(), shape.ToArray());

    /// <summary>A data set holding a copy of the byte <paramref name="pixels"/> (the only copy made) and of <paramref name="labels"/>.</summary>
    /// <exception cref="ArgumentException">As the byte[] constructor.</exception>
    public static Dataset FromSpans(ReadOnlySpan<byte> pixels, ReadOnlySpan<int> labels, ReadOnlySpan<int> shape) =>
        new(pixels.ToArray(), labels.ToArray(), shape.ToArray());

    /// <summary>Number of samples.</summary>
    public int Count => _labels.Length;
    /// <summary>Shape of one sample: [C, H, W], [features], or whatever the data set was made with.</summary>
    public IReadOnlyList<int> Shape => Array.AsReadOnly(_shape);
    /// <summary>Values per sample: the product of <see cref="Shape"/>.</summary>
    public int SampleSize { get; }
    /// <summary>True when the samples are byte pixels (<see cref="Pixels"/>), false when floats (<see cref="Values"/>).</summary>
    public bool IsBytes => _bytes is not null;
    /// <summary>Channels: the first of three dimensions, else 1.</summary>
    public int Channels => _shape.Length == 3 ? _shape[0] : 1;
    /// <summary>Height of an image: the next-to-last dimension, 1 for a flat shape.</summary>
    public int Rows => _shape.Length >= 2 ? _shape[^2] : 1;
    /// <summary>Width of an image: the last dimension (the feature count for a flat shape).</summary>
    public int Columns => _shape[^1];
    /// <summary>Values per sample, as <see cref="SampleSize"/> (the name from when data sets held only grey-scale images).</summary>
    public int ImageSize => SampleSize;
    /// <summary>Names of the classes, indexed by label, where the loader knew them (an image folder's subfolders, a CSV's text labels).</summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>All samples as bytes, <see cref="Count"/> * <see cref="SampleSize"/>.</summary>
    /// <exception cref="InvalidOperationException">The data set holds floats (see <see cref="IsBytes"/>).</exception>
    public ReadOnlySpan<byte> Pixels => _bytes ?? throw new InvalidOperationException(
        "this data set holds float samples, not byte pixels: read Values, or Gather into a float span");
    /// <summary>All samples as floats, <see cref="Count"/> * <see cref="SampleSize"/>.</summary>
    /// <exception cref="InvalidOperationException">The data set holds byte pixels (see <see cref="IsBytes"/>).</exception>
    public ReadOnlySpan<float> Values => _floats ?? throw new InvalidOperationException(
        "this data set holds byte pixels, not floats: read Pixels, or Gather into a float span (pixels / 255)");
    /// <summary>One label per sample.</summary>
    public ReadOnlySpan<int> Labels => _labels;

    /// <summary>The pixels of sample <paramref name="index"/>.</summary>
    /// <exception cref="InvalidOperationException">The data set holds floats.</exception>
    public ReadOnlySpan<byte> Image(int index) => Pixels.Slice(CheckIndex(index) * SampleSize, SampleSize);

    /// <summary>The float values of sample <paramref name="index"/>.</summary>
    /// <exception cref="InvalidOperationException">The data set holds byte pixels.</exception>
    public ReadOnlySpan<float> Sample(int index) => Values.Slice(CheckIndex(index) * SampleSize, SampleSize);

    private int CheckIndex(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return index;
    }

    /// <summary>A copy of the first <paramref name="count"/> samples (all of them when <paramref name="count"/> exceeds <see cref="Count"/>).</summary>
    public Dataset Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        count = Math.Min(count, Count);
        var indices = new int[count];
        for (int i = 0; i < count; i++) indices[i] = i;
        return Subset(indices);
    }

    /// <summary>A copy of samples <paramref name="indices"/>, in that order, with the same shape and class names.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside 0..Count-1.</exception>
    public Dataset Subset(ReadOnlySpan<int> indices)
    {
        var labels = new int[indices.Length];
        if (_bytes is not null)
        {
            var pixels = new byte[(long)indices.Length * SampleSize];
            Gather(indices, pixels, labels);
            return new Dataset(pixels, labels, _shape) { ClassNames = ClassNames };
        }
        var values = new float[(long)indices.Length * SampleSize];
        Gather(indices, values, labels);
        return new Dataset(values, labels, _shape) { ClassNames = ClassNames };
    }

    /// <summary>
    /// Splits off a validation set: <paramref name="validationFraction"/> of the samples (rounded to the nearest
    /// count), chosen by <paramref name="seed"/>; the rest is the training set. Both are copies, disjoint, and
    /// together hold every sample once; each keeps the original order. The same seed gives the same split on every machine.
    /// </summary>
    /// <param name="validationFraction">Between 0 and 1, exclusive.</param>
    /// <param name="seed">Chooses the samples.</param>
    /// <param name="stratify">Take the fraction from each class separately, so both sets keep the class proportions
    /// (each class's share is rounded to the nearest count).</param>
    /// <exception cref="ArgumentOutOfRangeException">The fraction is not strictly between 0 and 1.</exception>
    /// <exception cref="ArgumentException">Either part would be empty.</exception>
    public (Dataset Train, Dataset Validation) Split(double validationFraction, int seed, bool stratify = false)
    {
        if (!(validationFraction > 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "the validation fraction must be between 0 and 1, exclusive");
        var rng = new Execution.SplitMix64(((long)seed << 32) ^ 0x2545F4914F6CDD1DL);
        var chosen = new bool[Count];
        if (stratify)
        {
            var byClass = new Dictionary<int, List<int>>();
            for (int i = 0; i < Count; i++)
            {
                if (!byClass.TryGetValue(_labels[i], out var members)) byClass[_labels[i]] = members = [];
                members.Add(i);
            }
            var classes = new List<int>(byClass.Keys);
            classes.Sort();
            foreach (int c in classes) Choose(byClass[c].ToArray(), validationFraction, rng, chosen);
        }
        else
        {
            var all = new int[Count];
            for (int i = 0; i < Count; i++) all[i] = i;
            Choose(all, validationFraction, rng, chosen);
        }
        int validation = Array.FindAll(chosen, c => c).Length;
        if (validation == 0 || validation == Count)
            throw new ArgumentException(
                $"a validation fraction of {validationFraction} of {Count} samples leaves {(validation == 0 ? "the validation" : "the training")} set empty", nameof(validationFraction));
        var trainIndices = new int[Count - validation];
        var validationIndices = new int[validation];
        for (int i = 0, t = 0, v = 0; i < Count; i++)
        {
            if (chosen[i]) validationIndices[v++] = i;
            else trainIndices[t++] = i;
        }
        return (Subset(trainIndices), Subset(validationIndices));
    }

    // Marks round(fraction * members.Length) of members, picked by a seeded shuffle.
    private static void Choose(int[] members, double fraction, Execution.SplitMix64 rng, bool[] chosen)
    {
        rng.Shuffle(members);
        int take = (int)Math.Round(fraction * members.Length, MidpointRounding.AwayFromZero);
        for (int i = 0; i < take; i++) chosen[members[i]] = true;
    }

    /// <summary>
    /// Copies samples <paramref name="indices"/> (e.g. a shuffled batch) to the start of <paramref name="pixels"/>
    /// and their labels to the start of <paramref name="labels"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A span is too small for indices.Length samples.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside 0..Count-1.</exception>
    /// <exception cref="InvalidOperationException">The data set holds floats.</exception>
    public void Gather(ReadOnlySpan<int> indices, Span<byte> pixels, Span<int> labels)
    {
        byte[] source = _bytes ?? throw new InvalidOperationException(
            "this data set holds float samples, not byte pixels: Gather into a float span");
        CheckGather(indices, pixels.Length, labels.Length, nameof(pixels));
        int size = SampleSize;
        for (int i = 0; i < indices.Length; i++)
        {
            int index = indices[i];
            source.AsSpan(index * size, size).CopyTo(pixels.Slice(i * size, size));
            labels[i] = _labels[index];
        }
    }

    /// <summary>
    /// Copies samples <paramref name="indices"/> as floats to the start of <paramref name="values"/>, and their labels
    /// to the start of <paramref name="labels"/>. Byte pixels become pixel * (1f / 255), exactly the values the
    /// network's byte overloads compute.
    /// </summary>
    /// <exception cref="ArgumentException">A span is too small for indices.Length samples.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside 0..Count-1.</exception>
    public void Gather(ReadOnlySpan<int> indices, Span<float> values, Span<int> labels)
    {
        CheckGather(indices, values.Length, labels.Length, nameof(values));
        int size = SampleSize;
        for (int i = 0; i < indices.Length; i++)
        {
            int index = indices[i];
            Span<float> destination = values.Slice(i * size, size);
            if (_floats is not null) _floats.AsSpan(index * size, size).CopyTo(destination);
            else ToFloats(_bytes.AsSpan(index * size, size), destination);
            labels[i] = _labels[index];
        }
    }

    /// <summary>pixel * (1f / 255) for each pixel: the scaling the network applies to byte inputs.</summary>
    internal static void ToFloats(ReadOnlySpan<byte> pixels, Span<float> destination)
    {
        const float scale = 1f / 255f;
        for (int i = 0; i < pixels.Length; i++) destination[i] = pixels[i] * scale;
    }

    private void CheckGather(ReadOnlySpan<int> indices, int valuesLength, int labels, string valuesName)
    {
        long needed = (long)indices.Length * SampleSize;
        if (valuesLength < needed)
            throw new ArgumentException($"{indices.Length} samples need {needed} values, the span holds {valuesLength}.", valuesName);
        if (labels < indices.Length)
            throw new ArgumentException($"{indices.Length} samples need {indices.Length} labels, the span holds {labels}.", nameof(labels));
        // Check every index before copying so a bad one leaves the spans untouched.
        for (int i = 0; i < indices.Length; i++)
        {
            if ((uint)indices[i] >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(indices), $"indices[{i}] = {indices[i]} is outside 0..{Count - 1}.");
        }
    }
}
