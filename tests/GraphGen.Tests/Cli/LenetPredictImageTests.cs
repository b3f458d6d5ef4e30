using System;
using System.IO;
using System.Linq;
using System.Text;
using GraphGen.Checkpoints;
using GraphGen.Data;
using GraphGen.Tests.Data;
using GraphGen.Tests.Guarantees;
using GraphGen.Training;
using Xunit;
using static GraphGen.Tests.Cli.LenetCliTests;

namespace GraphGen.Tests.Cli;

/// <summary>Issue 13: lenet predict --image reads PNG (grey-scale, with alpha, RGB as luminance) as well as binary
/// PGM, told apart by content, and refuses an unusable image in one line.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class LenetPredictImageTests : IDisposable
{
    private readonly ScratchDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string SavedNetwork()
    {
        string path = _dir.File("net.safetensors");
        using var net = new GraphGen.Samples.LeNet(new NetworkOptions { Seed = 4, Threads = 1 });
        Checkpoint.Save(net, path);
        return path;
    }

    /// <summary>What predict must print for <paramref name="pixels"/>: the network's own logits, softmax in double, classes by probability.</summary>
    private static string Expected(string checkpoint, string name, byte[] pixels)
    {
        using var net = new GraphGen.Samples.LeNet(new NetworkOptions { Threads = 1 });
        Checkpoint.Load(net, checkpoint);
        var logits = new float[10];
        net.Infer(pixels, logits);
        double[] e = logits.Select(z => Math.Exp(z - (double)logits.Max())).ToArray();
        var sb = new StringBuilder($"{name}: {FashionMnist.ClassNames[Trainer.ArgMax(logits)]}\n");
        foreach (int c in Enumerable.Range(0, 10).OrderByDescending(c => e[c]))
            sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"  {FashionMnist.ClassNames[c],-12} {e[c] / e.Sum(),7:P2}\n");
        return sb.ToString();
    }

    private static byte[] Pgm(byte[] pixels) => [.. Encoding.ASCII.GetBytes("P5\n# same pixels\n28 28\n255\n"), .. pixels];

    private static byte[] Shirt()
    {
        // A light blob on a dark background with some texture: different enough from its inverse.
        var pixels = new byte[784];
        var rng = new Random(3);
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++)
                pixels[y * 28 + x] = (byte)(Math.Abs(x - 14) < 8 && y > 3 && y < 25 ? 150 + rng.Next(100) : rng.Next(20));
        return pixels;
    }

    private static string Predict(string checkpoint, string file)
    {
        Run r = Lenet("predict", "--checkpoint", checkpoint, "--image", file);
        Assert.True(r.Code == 0 && r.Err == "", r.ToString());
        return r.Out.Replace("\r", "");
    }

    [Fact]
    public void Predict_reads_a_grey_png_as_the_pgm_of_the_same_pixels()
    {
        string checkpoint = SavedNetwork();
        byte[] pixels = Shirt();
        File.WriteAllBytes(_dir.File("shirt.pgm"), Pgm(pixels));
        File.WriteAllBytes(_dir.File("shirt.png"), PngWriter.Encode(28, 28, 0, pixels));
        // With alpha (dropped), and with a name that does not say PNG: the format is read from the first bytes.
        byte[] withAlpha = pixels.SelectMany(v => new[] { v, (byte)(255 - v) }).ToArray();
        File.WriteAllBytes(_dir.File("shirt-alpha.img"), PngWriter.Encode(28, 28, 4, withAlpha));

        Assert.Equal(Expected(checkpoint, "shirt.pgm", pixels), Predict(checkpoint, _dir.File("shirt.pgm")));
        Assert.Equal(Expected(checkpoint, "shirt.png", pixels), Predict(checkpoint, _dir.File("shirt.png")));
        Assert.Equal(Expected(checkpoint, "shirt-alpha.img", pixels), Predict(checkpoint, _dir.File("shirt-alpha.img")));
        // The comparison can fail: other pixels print other probabilities.
        byte[] inverse = pixels.Select(v => (byte)(255 - v)).ToArray();
        File.WriteAllBytes(_dir.File("inverse.png"), PngWriter.Encode(28, 28, 0, inverse));
        Assert.NotEqual(Predict(checkpoint, _dir.File("shirt.png")).Split('\n')[1..], Predict(checkpoint, _dir.File("inverse.png")).Split('\n')[1..]);
    }

    [Fact]
    public void Predict_reads_an_rgb_png_as_its_luminance()
    {
        string checkpoint = SavedNetwork();
        var rng = new Random(5);
        byte[] rgb = new byte[784 * 3];
        rng.NextBytes(rgb);
        // Pure red, green and blue first: PIL's convert("L") gives 76, 150 and 29 (0.299, 0.587, 0.114 of 255, rounded down
        // in its fixed point: (19595 R + 38470 G + 7471 B + 32768) >> 16).
        byte[] primaries = [255, 0, 0, 0, 255, 0, 0, 0, 255];
        primaries.CopyTo(rgb, 0);
        byte[] grey = Enumerable.Range(0, 784).Select(i => (byte)((19595 * rgb[3 * i] + 38470 * rgb[3 * i + 1] + 7471 * rgb[3 * i + 2] + 32768) >> 16)).ToArray();
        Assert.Equal(new byte[] { 76, 150, 29 }, grey[..3]);
        File.WriteAllBytes(_dir.File("colour.png"), PngWriter.Encode(28, 28, 2, rgb));
        File.WriteAllBytes(_dir.File("grey.pgm"), Pgm(grey));
        Assert.Equal(Expected(checkpoint, "colour.png", grey), Predict(checkpoint, _dir.File("colour.png")));
        Assert.Equal(Predict(checkpoint, _dir.File("grey.pgm")).Split('\n')[1..], Predict(checkpoint, _dir.File("colour.png")).Split('\n')[1..]);
    }

    [Theory]
    [InlineData("big", "is 32x32 pixels; the network takes 28x28 images (resize it first")]
    [InlineData("deep", "with 16-bit samples is not supported")]
    [InlineData("text", "is neither a PNG nor a binary PGM (P5) image")]
    [InlineData("plain", "it is a plain-text PGM, P2")]
    [InlineData("truncated", "truncated")]
    public void Predict_refuses_an_unusable_image_in_one_line(string kind, string mention)
    {
        string checkpoint = SavedNetwork();
        byte[] png = PngWriter.Encode(28, 28, 0, Shirt());
        byte[] file = kind switch
        {
            "big" => PngWriter.Encode(32, 32, 0, new byte[32 * 32]),
            "deep" => PngWriter.Encode(28, 28, 0, new byte[784 * 2], bitDepth: 16),
            "text" => Encoding.ASCII.GetBytes("a shirt, honestly\n"),
            "plain" => Encoding.ASCII.GetBytes("P2\n28 28\n255\n0 0 0\n"),
            _ => png[..(png.Length / 2)],
        };
        string path = _dir.File("image");
        File.WriteAllBytes(path, file);
        Run r = Lenet("predict", "--checkpoint", checkpoint, "--image", path);
        Assert.True(r.Code == 1 && r.Out == "", r.ToString());
        Assert.True(r.ErrLines.Length == 1 && r.ErrLines[0].StartsWith($"lenet: {path}", StringComparison.Ordinal), r.ToString());
        Assert.Contains(mention, r.Err);
    }
}
