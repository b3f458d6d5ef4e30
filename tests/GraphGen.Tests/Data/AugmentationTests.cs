using System;
using System.Linq;
using GraphGen.Data;
using Xunit;

namespace GraphGen.Tests.Data;

public sealed class AugmentationTests
{
    // Two channels of 3x3: channel 0 holds 1..9, channel 1 holds 11..19.
    private static readonly float[] Image = [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19];
    private static readonly int[] Shape = [2, 3, 3];

    private static float[] Transform(Augmentation a, int dy, int dx, bool flip)
    {
        var output = new float[18];
        a.Transform(Image, Shape, dy, dx, flip, output);
        return output;
    }

    [Fact]
    public void Crop_shifts_and_pads_with_zeros()
    {
        // out[y][x] = in[y + 1][x - 1]
        Assert.Equal(new float[] { 0, 4, 5, 0, 7, 8, 0, 0, 0, 0, 14, 15, 0, 17, 18, 0, 0, 0 }, Transform(new Augmentation { CropPadding = 1 }, 1, -1, false));
    }

    [Fact]
    public void Flip_mirrors_after_the_crop()
    {
        // out[y][x] = in[y][(2 - x) + 1]
        Assert.Equal(new float[] { 0, 3, 2, 0, 6, 5, 0, 9, 8, 0, 13, 12, 0, 16, 15, 0, 19, 18 }, Transform(new Augmentation { CropPadding = 1, HorizontalFlip = true }, 0, 1, true));
        Assert.Equal(new float[] { 3, 2, 1, 6, 5, 4, 9, 8, 7, 13, 12, 11, 16, 15, 14, 19, 18, 17 }, Transform(new Augmentation { HorizontalFlip = true }, 0, 0, true));
    }

    [Fact]
    public void Normalization_per_channel_applies_to_padding_too()
    {
        var a = new Augmentation { CropPadding = 1, Mean = [0.5f, 10f], Std = [2f, 4f] };
        float[] output = Transform(a, -1, 0, false); // out[y][x] = in[y - 1][x]: the first row is padding
        Assert.Equal(new float[] { -0.25f, -0.25f, -0.25f, 0.25f, 0.75f, 1.25f, 1.75f, 2.25f, 2.75f,
                                   -2.5f, -2.5f, -2.5f, 0.25f, 0.5f, 0.75f, 1f, 1.25f, 1.5f }, output);
    }

    [Fact]
    public void Apply_scales_bytes_then_transforms_with_the_drawn_offsets()
    {
        byte[] pixels = Enumerable.Range(0, 4 * 18).Select(i => (byte)(i * 3)).ToArray();
        var data = new Dataset(pixels, [0, 1, 2, 3], Shape);
        var a = new Augmentation { CropPadding = 2, HorizontalFlip = true, Mean = [0.1f, 0.2f], Std = [0.3f, 0.4f] };
        var output = new float[18];
        for (int index = 0; index < 4; index++)
        {
            a.Apply(data, index, seed: 3, epoch: 2, output);
            var (dy, dx, flip) = a.Draw(3, 2, index);
            for (int c = 0; c < 2; c++)
                for (int y = 0; y < 3; y++)
                    for (int x = 0; x < 3; x++)
                    {
                        int sy = y + dy, sx = (flip ? 2 - x : x) + dx;
                        float v = sy is >= 0 and < 3 && sx is >= 0 and < 3 ? pixels[index * 18 + c * 9 + sy * 3 + sx] * (1f / 255f) : 0f;
                        Assert.Equal((v - a.Mean[c]) / a.Std[c], output[c * 9 + y * 3 + x]);
                    }
        }
    }

    [Fact]
    public void Draws_are_uniform_seeded_and_depend_on_seed_epoch_and_index_only()
    {
        var a = new Augmentation { CropPadding = 2, HorizontalFlip = true };
        var draws = Enumerable.Range(0, 5000).Select(i => a.Draw(7, 1, i)).ToArray();
        Assert.Equal(Enumerable.Range(-2, 5), draws.Select(d => d.Dy).Distinct().Order());
        Assert.Equal(Enumerable.Range(-2, 5), draws.Select(d => d.Dx).Distinct().Order());
        foreach (int v in Enumerable.Range(-2, 5)) Assert.InRange(draws.Count(d => d.Dx == v), 850, 1150); // 1000 expected, sd 28
        Assert.InRange(draws.Count(d => d.Flip), 2300, 2700); // 2500 expected, sd 35
        Assert.Equal(draws, Enumerable.Range(0, 5000).Select(i => a.Draw(7, 1, i)));
        Assert.NotEqual(draws, Enumerable.Range(0, 5000).Select(i => a.Draw(7, 2, i)));
        Assert.NotEqual(draws, Enumerable.Range(0, 5000).Select(i => a.Draw(8, 1, i)));
        Assert.Equal((0, 0, false), new Augmentation().Draw(7, 1, 0));
    }

    [Fact]
    public void Normalize_a_test_set_and_Statistics()
    {
        var data = new Dataset([0, 51, 255, 51], [0, 1], [2, 1, 1]); // channel 0: 0, 255; channel 1: 51, 51
        var (mean, std) = Augmentation.Statistics(data);
        Assert.Equal(new[] { 0.5f, 0.2f }, mean);
        Assert.Equal(0.5f, std[0]);
        Assert.True(std[1] < 1e-7f);
        var normalized = new Augmentation { Mean = [0.5f, 0.2f], Std = [0.5f, 0.1f] }.Normalize(data);
        Assert.False(normalized.IsBytes);
        Assert.Equal(new[] { -1f, (51 * (1f / 255f) - 0.2f) / 0.1f, 1f, (51 * (1f / 255f) - 0.2f) / 0.1f }, normalized.Values.ToArray());
        Assert.Equal(new[] { 0, 1 }, normalized.Labels.ToArray());
    }

    [Fact]
    public void Per_feature_standardization_of_a_flat_table()
    {
        var table = new Dataset([1f, 10, 3, 30], [0, 1], [2]);
        var normalized = new Augmentation { Mean = [2f, 20f], Std = [1f, 10f] }.Normalize(table);
        Assert.Equal(new[] { -1f, -1, 1, 1 }, normalized.Values.ToArray());
    }

    [Fact]
    public void Validate_bad_settings()
    {
        int[] flat = [4];
        Assert.Contains("need images shaped [C, H, W]", Assert.Throws<ArgumentException>(() => new Augmentation { CropPadding = 1 }.Validate(flat)).Message);
        Assert.Contains("need images shaped [C, H, W]", Assert.Throws<ArgumentException>(() => new Augmentation { HorizontalFlip = true }.Validate(flat)).Message);
        Assert.Contains("must not be negative", Assert.Throws<ArgumentException>(() => new Augmentation { CropPadding = -1 }.Validate(Shape)).Message);
        Assert.Contains("both Mean and Std", Assert.Throws<ArgumentException>(() => new Augmentation { Mean = [0f] }.Validate(Shape)).Message);
        Assert.Contains("need 2 (one per channel) or 1", Assert.Throws<ArgumentException>(() => new Augmentation { Mean = [0f, 0, 0], Std = [1f, 1, 1] }.Validate(Shape)).Message);
        Assert.Contains("std 0 must be finite and std positive", Assert.Throws<ArgumentException>(() => new Augmentation { Mean = [0f], Std = [0f] }.Validate(Shape)).Message);
        Assert.Contains("Mean has 1 values and Std 2", Assert.Throws<ArgumentException>(() => new Augmentation { Mean = [0f], Std = [1f, 1] }.Validate(Shape)).Message);
        new Augmentation { Mean = [0f], Std = [1f] }.Validate(flat); // one value for all: fine
        var table = new Dataset([1f, 2, 3, 4], [0], [4]);
        Assert.Throws<ArgumentException>(() => new Augmentation { HorizontalFlip = true }.Apply(table, 0, 0, 1, new float[4]));
        Assert.Contains("destination holds 3", Assert.Throws<ArgumentException>(() => new Augmentation().Apply(table, 0, 0, 1, new float[3])).Message);
    }
}
