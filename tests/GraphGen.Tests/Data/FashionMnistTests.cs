using System;
using System.IO;
using System.Linq;
using GraphGen.Data;
using Xunit;
using Xunit.Abstractions;

namespace GraphGen.Tests.Data;

public sealed class FashionMnistTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly ITestOutputHelper _output;

    public FashionMnistTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => _dir.Dispose();

    private string Images => _dir.File("train-images-idx3-ubyte.gz");
    private string Labels => _dir.File("train-labels-idx1-ubyte.gz");

    private static byte[] Pixels(int count, int side = 28) =>
        Enumerable.Range(0, count * side * side).Select(i => (byte)(i * 7)).ToArray();

    private void WriteTrain(byte[] labels, int images = -1, int side = 28)
    {
        if (images < 0)
            images = labels.Length;
        Idx.WriteImages(Images, Pixels(images, side), images, side, side);
        Idx.WriteLabels(Labels, labels);
    }

    [Fact]
    public void Class_names()
    {
        Assert.Equal(10, FashionMnist.ClassNames.Count);
        Assert.Equal("T-shirt/top", FashionMnist.ClassNames[0]);
        Assert.Equal("Ankle boot", FashionMnist.ClassNames[9]);
    }

    [Fact]
    public void Loads_a_small_valid_set()
    {
        WriteTrain([0, 9, 4]);
        var set = FashionMnist.LoadTrain(_dir.Path);
        Assert.Equal((3, 28, 28), (set.Count, set.Rows, set.Columns));
        Assert.Equal(Pixels(3), set.Pixels.ToArray());
        Assert.Equal(new[] { 0, 9, 4 }, set.Labels.ToArray());
    }

    [Fact]
    public void LoadTest_reads_the_t10k_files()
    {
        Idx.WriteImages(_dir.File("t10k-images-idx3-ubyte.gz"), Pixels(2), 2, 28, 28);
        Idx.WriteLabels(_dir.File("t10k-labels-idx1-ubyte.gz"), [5, 6]);
        Assert.Equal(new[] { 5, 6 }, FashionMnist.LoadTest(_dir.Path).Labels.ToArray());
    }

    [Fact]
    public void IsInstalled_needs_all_four_files()
    {
        Assert.False(FashionMnist.IsInstalled(_dir.Path));
        WriteTrain([1]);
        Assert.False(FashionMnist.IsInstalled(_dir.Path));
        Idx.WriteImages(_dir.File("t10k-images-idx3-ubyte.gz"), Pixels(1), 1, 28, 28);
        Idx.WriteLabels(_dir.File("t10k-labels-idx1-ubyte.gz"), [1]);
        Assert.True(FashionMnist.IsInstalled(_dir.Path));
    }

    [Fact]
    public void Directory_resolution_order()
    {
        Assert.Equal("/a", FashionMnist.Resolve("/a", "/b").Path);
        Assert.Equal("/b", FashionMnist.Resolve(null, "/b").Path);
        Assert.Equal(FashionMnist.DefaultDirectory, FashionMnist.Resolve(null, null).Path);
        Assert.Equal(FashionMnist.DefaultDirectory, FashionMnist.Resolve("", "").Path);
    }

    [Fact]
    public void Missing_directory_says_how_to_install()
    {
        string dir = Path.Combine(_dir.Path, "absent");
        var e = Assert.Throws<DataFormatException>(() => FashionMnist.LoadTrain(dir));
        Assert.Equal(Path.Combine(dir, "train-images-idx3-ubyte.gz"), e.Path);
        Assert.Contains(e.Path, e.Message);
        Assert.Contains($"directory {dir} (as passed) does not exist", e.Message);
        Assert.Contains("sudo apt-get install dataset-fashion-mnist", e.Message);
        Assert.Contains("--data-dir", e.Message);
        Assert.Contains("GRAPHGEN_DATA", e.Message);
    }

    [Fact]
    public void Missing_label_file_is_named_before_anything_is_read()
    {
        Idx.WriteImages(Images, Pixels(1), 1, 28, 28);
        var e = Assert.Throws<DataFormatException>(() => FashionMnist.LoadTrain(_dir.Path));
        Assert.Equal(Labels, e.Path);
        Assert.Contains(Labels, e.Message);
        Assert.Contains($"searched {_dir.Path}", e.Message);
        Assert.Contains("sudo apt-get install dataset-fashion-mnist", e.Message);
    }

    [Fact]
    public void A_file_given_as_the_directory()
    {
        WriteTrain([1]);
        var e = Assert.Throws<DataFormatException>(() => FashionMnist.LoadTrain(Images));
        Assert.Equal(Images, e.Path);
        Assert.Contains("is a file", e.Message);
    }

    [Fact]
    public void Image_and_label_counts_disagree()
    {
        WriteTrain([1, 2], images: 3);
        var e = Assert.Throws<DataFormatException>(() => FashionMnist.LoadTrain(_dir.Path));
        Assert.Contains(Images, e.Message);
        Assert.Contains(Labels, e.Message);
        Assert.Contains("holds 3 images", e.Message);
        Assert.Contains("holds 2 labels", e.Message);
    }

    [Fact]
    public void Label_outside_the_ten_classes()
    {
        WriteTrain([3, 10, 4]);
        var e = Assert.Throws<DataFormatException>(() => FashionMnist.LoadTrain(_dir.Path));
        Assert.Equal(Labels, e.Path);
        Assert.Contains(Labels, e.Message);
        Assert.Contains("label 10 at index 1 is outside 0..9", e.Message);
    }

    [Fact]
    public void Images_must_be_28x28()
    {
        WriteTrain([3], side: 32);
        var e = Assert.Throws<DataFormatException>(() => FashionMnist.LoadTrain(_dir.Path));
        Assert.Equal(Images, e.Path);
        Assert.Contains(Images, e.Message);
        Assert.Contains("images are 32x32, FashionMNIST images are 28x28", e.Message);
    }

    [Fact]
    public void A_malformed_file_surfaces_as_one_DataFormatException()
    {
        WriteTrain([1]);
        File.WriteAllBytes(Labels, IdxTests.Raw(0x803, [1, 1, 1], [0]));
        var e = Assert.Throws<DataFormatException>(() => FashionMnist.LoadTrain(_dir.Path));
        Assert.Contains(Labels, e.Message);
        Assert.Contains("this looks like an image file", e.Message);
    }

    [Fact]
    public void Real_data_set_when_installed()
    {
        if (!FashionMnist.IsInstalled())
        {
            _output.WriteLine($"FashionMNIST not installed in {FashionMnist.DefaultDirectory} or $GRAPHGEN_DATA: skipped.");
            return;
        }
        var train = FashionMnist.LoadTrain();
        var test = FashionMnist.LoadTest();
        Assert.Equal(60000, train.Count);
        Assert.Equal(10000, test.Count);
        foreach (var set in new[] { train, test })
        {
            Assert.Equal((28, 28), (set.Rows, set.Columns));
            var perClass = new int[10];
            foreach (int label in set.Labels)
                perClass[label]++; // an out-of-range label would throw here
            Assert.All(perClass, n => Assert.Equal(set.Count / 10, n));
        }
    }
}
