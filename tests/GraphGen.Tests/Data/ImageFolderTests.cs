using System;
using System.IO;
using System.Linq;
using GraphGen.Data;
using Xunit;

namespace GraphGen.Tests.Data;

public sealed class ImageFolderTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Image(string relative, byte[] png)
    {
        string path = Path.Combine(_dir.Path, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, png);
        return path;
    }

    // A 2x2 RGB image whose pixel p holds (base + p, base + 10 + p, base + 20 + p).
    private static byte[] Rgb(int @base) =>
        PngWriter.Encode(2, 2, 2, Enumerable.Range(0, 4).SelectMany(p => new[] { (byte)(@base + p), (byte)(@base + 10 + p), (byte)(@base + 20 + p) }).ToArray());

    private DataFormatException Fails(string path, Action load, params string[] phrases)
    {
        var e = Assert.Throws<DataFormatException>(load);
        Assert.Equal(path, e.Path);
        foreach (string phrase in phrases) Assert.Contains(phrase, e.Message);
        return e;
    }

    [Fact]
    public void Classes_sorted_ordinally_images_planar_CHW()
    {
        Image("dog/b.png", Rgb(100));
        Image("dog/a.png", Rgb(50));
        Image("Zebra/1.PNG", Rgb(0)); // 'Z' sorts before 'd' ordinally
        Image(".hidden/x.png", Rgb(0));
        Image("dog/.DS_Store", [1, 2, 3]);
        var set = ImageFolder.Load(_dir.Path);
        Assert.Equal(new[] { "Zebra", "dog" }, set.ClassNames);
        Assert.Equal(new[] { 0, 1, 1 }, set.Labels.ToArray());
        Assert.Equal(new[] { 3, 2, 2 }, set.Shape);
        Assert.True(set.IsBytes);
        // dog/a.png (base 50): R plane, G plane, B plane.
        Assert.Equal(new byte[] { 50, 51, 52, 53, 60, 61, 62, 63, 70, 71, 72, 73 }, set.Image(1).ToArray());
    }

    [Fact]
    public void Grey_images_in_RGB_and_RGB_in_grey_as_PIL()
    {
        Image("a/grey.png", PngWriter.Encode(2, 1, 0, [7, 200]));
        Image("b/rgb.png", PngWriter.Encode(2, 1, 2, [255, 0, 0, 10, 20, 30]));
        var rgb = ImageFolder.Load(_dir.Path, channels: 3);
        Assert.Equal(new byte[] { 7, 200, 7, 200, 7, 200 }, rgb.Image(0).ToArray());
        var grey = ImageFolder.Load(_dir.Path, channels: 1);
        Assert.Equal(new[] { 1, 1, 2 }, grey.Shape);
        Assert.Equal(new byte[] { 7, 200 }, grey.Image(0).ToArray());
        // PIL's L: (19595 R + 38470 G + 7471 B + 32768) >> 16: 255,0,0 -> 76; 10,20,30 -> 18 (17.97).
        Assert.Equal(new byte[] { 76, 18 }, grey.Image(1).ToArray());
    }

    [Fact]
    public void Palette_and_alpha_images_mix_with_RGB()
    {
        Image("a/p.png", PngWriter.Encode(1, 1, 3, [1], palette: [0, 0, 0, 9, 8, 7]));
        Image("a/q.png", PngWriter.Encode(1, 1, 6, [1, 2, 3, 0]));
        var set = ImageFolder.Load(_dir.Path);
        Assert.Equal(new byte[] { 9, 8, 7 }, set.Image(0).ToArray());
        Assert.Equal(new byte[] { 1, 2, 3 }, set.Image(1).ToArray());
    }

    // ---- bad input ----

    [Fact]
    public void Missing_folder_or_a_file()
    {
        string missing = Path.Combine(_dir.Path, "none");
        Fails(missing, () => ImageFolder.Load(missing), "folder not found");
        string file = Image("f.png", Rgb(0));
        Fails(file, () => ImageFolder.Load(file), "is a file, expected a folder");
    }

    [Fact]
    public void No_class_folders()
    {
        Image("loose.png", Rgb(0));
        Fails(_dir.Path, () => ImageFolder.Load(_dir.Path), "holds no class subfolders");
    }

    [Fact]
    public void Empty_class_folder()
    {
        Image("a/1.png", Rgb(0));
        Directory.CreateDirectory(Path.Combine(_dir.Path, "b"));
        Fails(Path.Combine(_dir.Path, "b"), () => ImageFolder.Load(_dir.Path), "class folder holds no PNG images");
    }

    [Fact]
    public void A_file_that_is_not_a_PNG()
    {
        Image("a/1.png", Rgb(0));
        string jpeg = Image("a/2.jpg", [0xFF, 0xD8]);
        Fails(jpeg, () => ImageFolder.Load(_dir.Path), "is not a .png file");
    }

    [Fact]
    public void A_PNG_name_on_other_bytes()
    {
        string fake = Image("a/1.png", [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4, 5]);
        Fails(fake, () => ImageFolder.Load(_dir.Path), "not a PNG file");
    }

    [Fact]
    public void Images_of_different_sizes()
    {
        string first = Image("a/1.png", Rgb(0));
        string odd = Image("b/2.png", PngWriter.Encode(3, 2, 0, new byte[6]));
        Fails(odd, () => ImageFolder.Load(_dir.Path), $"is 3x2 pixels but {first} is 2x2", "same size");
    }

    [Fact]
    public void A_nested_folder()
    {
        Image("a/1.png", Rgb(0));
        Image("a/deeper/2.png", Rgb(0));
        Fails(Path.Combine(_dir.Path, "a", "deeper"), () => ImageFolder.Load(_dir.Path), "is a folder inside a class folder");
    }

    [Fact]
    public void A_FIFO_named_png()
    {
        Image("a/1.png", Rgb(0));
        string fifo = Path.Combine(_dir.Path, "a", "2.png");
        IdxTests.MakeFifo(fifo);
        Fails(fifo, () => ImageFolder.Load(_dir.Path), "is a FIFO (named pipe), not a regular file");
    }

    [Fact]
    public void Unsupported_image_names_the_file()
    {
        string deep = Image("a/1.png", PngWriter.Encode(2, 2, 2, new byte[12], bitDepth: 16));
        Fails(deep, () => ImageFolder.Load(_dir.Path), "16-bit samples is not supported");
    }

    [Fact]
    public void Channels_other_than_1_or_3() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageFolder.Load(_dir.Path, channels: 4));
}
