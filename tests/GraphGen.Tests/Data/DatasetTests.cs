using System;
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
