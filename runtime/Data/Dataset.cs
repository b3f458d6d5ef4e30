using System;

namespace GraphGen.Data;

/// <summary>
/// Labelled images held as raw bytes (pixels 0..255), row-major, image after image.
/// The arrays passed in are owned by the data set, not copied.
/// </summary>
public sealed class Dataset
{
    private readonly byte[] _pixels;
    private readonly int[] _labels;

    /// <summary>Wraps <paramref name="pixels"/> (labels.Length * rows * columns bytes) and <paramref name="labels"/> (non-negative).</summary>
    /// <exception cref="ArgumentException">The lengths disagree, a size is not positive, or a label is negative.</exception>
    public Dataset(byte[] pixels, int[] labels, int rows, int columns)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        long expected = (long)labels.Length * rows * columns;
        if (pixels.Length != expected)
            throw new ArgumentException(
                $"{labels.Length} labels of {rows}x{columns} images need {expected} pixel bytes, got {pixels.Length}.", nameof(pixels));
        int bad = Array.FindIndex(labels, l => l < 0);
        if (bad >= 0)
            throw new ArgumentException($"Label {labels[bad]} at index {bad} is negative.", nameof(labels));
        _pixels = pixels;
        _labels = labels;
        Rows = rows;
        Columns = columns;
    }

    /// <summary>Number of images.</summary>
    public int Count => _labels.Length;
    /// <summary>Height of an image in pixels.</summary>
    public int Rows { get; }
    /// <summary>Width of an image in pixels.</summary>
    public int Columns { get; }
    /// <summary>Bytes per image: <see cref="Rows"/> * <see cref="Columns"/>.</summary>
    public int ImageSize => Rows * Columns;
    /// <summary>All images, <see cref="Count"/> * <see cref="ImageSize"/> bytes.</summary>
    public ReadOnlySpan<byte> Pixels => _pixels;
    /// <summary>One label per image.</summary>
    public ReadOnlySpan<int> Labels => _labels;

    /// <summary>The pixels of image <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> Image(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return _pixels.AsSpan(index * ImageSize, ImageSize);
    }

    /// <summary>A copy of the first <paramref name="count"/> images (all of them when <paramref name="count"/> exceeds <see cref="Count"/>).</summary>
    public Dataset Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        count = Math.Min(count, Count);
        return new Dataset(_pixels.AsSpan(0, count * ImageSize).ToArray(), _labels.AsSpan(0, count).ToArray(), Rows, Columns);
    }

    /// <summary>
    /// Copies images <paramref name="indices"/> (e.g. a shuffled batch) to the start of <paramref name="pixels"/>
    /// and their labels to the start of <paramref name="labels"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A span is too small for indices.Length images.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside 0..Count-1.</exception>
    public void Gather(ReadOnlySpan<int> indices, Span<byte> pixels, Span<int> labels)
    {
        int size = ImageSize;
        if (pixels.Length < (long)indices.Length * size)
            throw new ArgumentException($"{indices.Length} images need {(long)indices.Length * size} bytes, the span holds {pixels.Length}.", nameof(pixels));
        if (labels.Length < indices.Length)
            throw new ArgumentException($"{indices.Length} images need {indices.Length} labels, the span holds {labels.Length}.", nameof(labels));
        // Check every index before copying so a bad one leaves the spans untouched.
        for (int i = 0; i < indices.Length; i++)
        {
            if ((uint)indices[i] >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(indices), $"indices[{i}] = {indices[i]} is outside 0..{Count - 1}.");
        }
        for (int i = 0; i < indices.Length; i++)
        {
            int index = indices[i];
            _pixels.AsSpan(index * size, size).CopyTo(pixels.Slice(i * size, size));
            labels[i] = _labels[index];
        }
    }
}
