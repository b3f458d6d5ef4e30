using System;
using System.Linq;
using GraphGen.Data;
using Xunit;

namespace GraphGen.Tests.Data;

public sealed class DatasetTests
{
    // 3 images of 2x2: image i holds 10i, 10i+1, 10i+2, 10i+3.
    private static Dataset Three() => new([0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23], [7, 8, 9], 2, 2);

    [Fact]
    public void Shape_and_accessors()
    {
        var set = Three();
        Assert.Equal((3, 2, 2, 4), (set.Count, set.Rows, set.Columns, set.ImageSize));
        Assert.Equal(12, set.Pixels.Length);
        Assert.Equal(new[] { 7, 8, 9 }, set.Labels.ToArray());
        Assert.Equal(new byte[] { 10, 11, 12, 13 }, set.Image(1).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => set.Image(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => set.Image(-1));
    }

    [Fact]
    public void Constructor_rejects_inconsistent_input()
    {
        Assert.Throws<ArgumentException>(() => new Dataset(new byte[11], [0, 0, 0], 2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dataset([], [], 0, 2));
        Assert.Throws<ArgumentException>(() => new Dataset(new byte[4], [-1], 2, 2));
    }

    [Fact]
    public void Take_copies_the_first_images()
    {
        var first = Three().Take(2);
        Assert.Equal(2, first.Count);
        Assert.Equal(new byte[] { 0, 1, 2, 3, 10, 11, 12, 13 }, first.Pixels.ToArray());
        Assert.Equal(new[] { 7, 8 }, first.Labels.ToArray());
    }

    [Fact]
    public void Take_clamps_to_the_count_and_rejects_negatives()
    {
        var set = Three();
        Assert.Equal(3, set.Take(100).Count);
        Assert.Equal(0, set.Take(0).Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => set.Take(-1));
    }

    [Fact]
    public void Gather_copies_a_shuffled_batch()
    {
        var pixels = new byte[12];
        var labels = new int[3];
        Three().Gather([2, 0, 2], pixels, labels);
        Assert.Equal(new byte[] { 20, 21, 22, 23, 0, 1, 2, 3, 20, 21, 22, 23 }, pixels);
        Assert.Equal(new[] { 9, 7, 9 }, labels);
    }

    [Fact]
    public void Gather_fills_only_the_start_of_larger_spans()
    {
        var pixels = new byte[8];
        pixels.AsSpan().Fill(99);
        var labels = new[] { -5, -5 };
        Three().Gather([1], pixels, labels);
        Assert.Equal(new byte[] { 10, 11, 12, 13, 99, 99, 99, 99 }, pixels);
        Assert.Equal(new[] { 8, -5 }, labels);
    }

    [Fact]
    public void Gather_with_a_bad_index_writes_nothing()
    {
        var pixels = new byte[8];
        var labels = new int[2];
        Assert.Throws<ArgumentOutOfRangeException>(() => Three().Gather([0, 3], pixels, labels));
        Assert.All(pixels, p => Assert.Equal(0, p));
        Assert.All(labels, l => Assert.Equal(0, l));
    }

    [Fact]
    public void Gather_rejects_spans_too_small()
    {
        var set = Three();
        Assert.Throws<ArgumentException>(() => set.Gather([0, 1], new byte[7], new int[2]));
        Assert.Throws<ArgumentException>(() => set.Gather([0, 1], new byte[8], new int[1]));
    }
}

public sealed class FloatDatasetTests
{
    // 4 samples of [2] features: sample i holds (i, 10 + i); labels 0, 1, 0, 1.
    private static Dataset Table() => new([0f, 10, 1, 11, 2, 12, 3, 13], [0, 1, 0, 1], [2]);

    [Fact]
    public void Float_samples_of_any_shape()
    {
        var values = new float[2 * 3 * 2 * 2];
        for (int i = 0; i < values.Length; i++) values[i] = i * 0.5f;
        var set = new Dataset(values, [3, 4], [3, 2, 2]);
        Assert.False(set.IsBytes);
        Assert.Equal(new[] { 3, 2, 2 }, set.Shape);
        Assert.Equal((2, 12, 3, 2, 2), (set.Count, set.SampleSize, set.Channels, set.Rows, set.Columns));
        Assert.Equal(values[12..], set.Sample(1).ToArray());
        Assert.Throws<InvalidOperationException>(() => set.Pixels.Length);
        Assert.Throws<InvalidOperationException>(() => set.Image(0).Length);
    }

    [Fact]
    public void Arrays_are_wrapped_and_spans_copied_once()
    {
        float[] values = [1, 2, 3, 4];
        var wrapped = new Dataset(values, [0, 1], [2]);
        values[0] = 9; // the data set owns the array
        Assert.Equal(9, wrapped.Values[0]);
        var copied = Dataset.FromSpans(values.AsSpan(), [0, 1], [2]);
        values[1] = 7;
        Assert.Equal(new[] { 9f, 2, 3, 4 }, copied.Values.ToArray());
        var bytes = Dataset.FromSpans(new byte[] { 5, 6, 7, 8 }, [1], [1, 2, 2]);
        Assert.True(bytes.IsBytes);
        Assert.Equal((1, 2, 2), (bytes.Channels, bytes.Rows, bytes.Columns));
    }

    [Fact]
    public void The_legacy_constructor_means_one_channel()
    {
        var set = new Dataset(new byte[12], [0, 1], 2, 3);
        Assert.Equal(new[] { 1, 2, 3 }, set.Shape);
        Assert.Equal((6, 6, 1), (set.ImageSize, set.SampleSize, set.Channels));
    }

    [Fact]
    public void Constructor_rejects_inconsistent_input()
    {
        var e = Assert.Throws<ArgumentException>(() => new Dataset(new float[5], [0, 0], [3]));
        Assert.Contains("2 labels of samples shaped [3] need 6 values, got 5", e.Message);
        Assert.Contains("not positive", Assert.Throws<ArgumentException>(() => new Dataset(new float[0], [], [3, 0])).Message);
        Assert.Contains("shape is empty", Assert.Throws<ArgumentException>(() => new Dataset(new float[0], [], [])).Message);
        Assert.Contains("Label -2 at index 1", Assert.Throws<ArgumentException>(() => new Dataset(new float[2], [0, -2], [1])).Message);
        Assert.Contains("Value NaN of sample 1 (index 0", Assert.Throws<ArgumentException>(() => new Dataset([0f, float.NaN], [0, 0], [1])).Message);
        Assert.Contains("larger than an array", Assert.Throws<ArgumentException>(() => new Dataset(new byte[0], [], [65536, 65536])).Message);
    }

    [Fact]
    public void Gather_floats_from_floats_and_from_bytes()
    {
        var values = new float[4];
        var labels = new int[2];
        Table().Gather([3, 0], values, labels);
        Assert.Equal(new[] { 3f, 13, 0, 10 }, values);
        Assert.Equal(new[] { 1, 0 }, labels);

        // Byte pixels become exactly what the network's byte overloads compute: p * (1f / 255).
        var bytes = new Dataset([0, 255, 51, 7], [2, 3], [1, 1, 2]);
        bytes.Gather([1], values, labels);
        Assert.Equal(51 * (1f / 255f), values[0]);
        Assert.Equal(7 * (1f / 255f), values[1]);
        Assert.Equal(3, labels[0]);
        Assert.Throws<InvalidOperationException>(() => Table().Gather([0], new byte[2], labels));
    }

    [Fact]
    public void Subset_and_Take_copy_in_order()
    {
        var sub = Table().Subset([2, 2, 1]);
        Assert.Equal(new[] { 2f, 12, 2, 12, 1, 11 }, sub.Values.ToArray());
        Assert.Equal(new[] { 0, 0, 1 }, sub.Labels.ToArray());
        Assert.Equal(new[] { 0f, 10 }, Table().Take(1).Values.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => Table().Subset([4]));
    }

    private static Dataset Numbered(int count, int classes)
    {
        var values = new float[count];
        var labels = new int[count];
        for (int i = 0; i < count; i++) { values[i] = i; labels[i] = i % classes; }
        return new Dataset(values, labels, [1]) { ClassNames = new[] { "a", "b", "c" }[..classes] };
    }

    [Fact]
    public void Split_is_disjoint_complete_deterministic_and_seeded()
    {
        var set = Numbered(100, 3);
        var (train, validation) = set.Split(0.2, seed: 5);
        Assert.Equal((80, 20), (train.Count, validation.Count));
        var all = train.Values.ToArray().Concat(validation.Values.ToArray()).OrderBy(v => v).ToArray();
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (float)i), all); // every sample once
        Assert.Equal(train.Values.ToArray(), train.Values.ToArray().OrderBy(v => v)); // original order kept
        for (int i = 0; i < train.Count; i++) Assert.Equal((int)train.Values[i] % 3, train.Labels[i]); // labels travel with samples
        Assert.Equal(validation.Values.ToArray(), set.Split(0.2, seed: 5).Validation.Values.ToArray());
        Assert.NotEqual(validation.Values.ToArray(), set.Split(0.2, seed: 6).Validation.Values.ToArray());
        Assert.Equal(set.ClassNames, validation.ClassNames);
    }

    [Fact]
    public void Stratified_split_keeps_class_proportions()
    {
        // 60 of class 0, 30 of class 1, 10 of class 2 (labels by value).
        var labels = Enumerable.Range(0, 100).Select(i => i < 60 ? 0 : i < 90 ? 1 : 2).ToArray();
        var set = new Dataset(Enumerable.Range(0, 100).Select(i => (float)i).ToArray(), labels, [1]);
        var (_, validation) = set.Split(0.3, seed: 1, stratify: true);
        var counts = validation.Labels.ToArray().GroupBy(l => l).OrderBy(g => g.Key).Select(g => g.Count()).ToArray();
        Assert.Equal(new[] { 18, 9, 3 }, counts);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    public void Split_rejects_a_fraction_outside_0_1(double fraction) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Numbered(10, 2).Split(fraction, 0));

    [Fact]
    public void Split_that_leaves_a_part_empty_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => Numbered(3, 1).Split(0.1, 0));
        Assert.Contains("leaves the validation set empty", e.Message);
    }
}
