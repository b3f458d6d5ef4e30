using System;
using System.Collections.Generic;
using System.IO;

namespace GraphGen.Data;

/// <summary>
/// The FashionMNIST data set: 28x28 grey-scale clothing images in 10 classes, 60000 for training and 10000 for testing,
/// read from the gzip-compressed IDX files of the Debian package dataset-fashion-mnist.
/// </summary>
public static class FashionMnist
{
    /// <summary>Where the Debian package dataset-fashion-mnist installs the files.</summary>
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>The environment variable naming the data directory when no directory is passed.</summary>
    public const string DirectoryVariable = "GRAPHGEN_DATA";

    private const int Side = 28;
    private const string TrainImages = "train-images-idx3-ubyte.gz", TrainLabels = "train-labels-idx1-ubyte.gz";
    private const string TestImages = "t10k-images-idx3-ubyte.gz", TestLabels = "t10k-labels-idx1-ubyte.gz";

    /// <summary>The names of the 10 classes, indexed by label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } = Array.AsReadOnly(new[]
    {
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    });

    /// <summary>Loads the 60000 training images.</summary>
    /// <param name="directory">The directory holding the files; null: $GRAPHGEN_DATA, else <see cref="DefaultDirectory"/>.</param>
    /// <exception cref="DataFormatException">A file is missing or malformed, or the images and labels disagree.</exception>
    public static Dataset LoadTrain(string? directory = null) => Load(directory, TrainImages, TrainLabels);

    /// <summary>Loads the 10000 test images.</summary>
    /// <param name="directory">The directory holding the files; null: $GRAPHGEN_DATA, else <see cref="DefaultDirectory"/>.</param>
    /// <exception cref="DataFormatException">A file is missing or malformed, or the images and labels disagree.</exception>
    public static Dataset LoadTest(string? directory = null) => Load(directory, TestImages, TestLabels);

    /// <summary>Whether all four files are present (not whether they are well-formed).</summary>
    /// <param name="directory">The directory holding the files; null: $GRAPHGEN_DATA, else <see cref="DefaultDirectory"/>.</param>
    public static bool IsInstalled(string? directory = null)
    {
        string dir = Resolve(directory).Path;
        return Array.TrueForAll([TrainImages, TrainLabels, TestImages, TestLabels], f => File.Exists(Path.Combine(dir, f)));
    }

    private static (string Path, string Source) Resolve(string? directory) =>
        Resolve(directory, Environment.GetEnvironmentVariable(DirectoryVariable));

    // Takes the variable's value as an argument so tests need not change the process environment.
    internal static (string Path, string Source) Resolve(string? directory, string? variable)
    {
        if (!string.IsNullOrEmpty(directory))
            return (directory, "as passed");
        if (!string.IsNullOrEmpty(variable))
            return (variable, $"from {DirectoryVariable}");
        return (DefaultDirectory, "the default");
    }

    private static Dataset Load(string? directory, string imagesName, string labelsName)
    {
        var (dir, source) = Resolve(directory);
        if (File.Exists(dir))
            throw new DataFormatException(dir, $"is a file ({source}), expected the directory holding {imagesName} and {labelsName}");
        string images = Path.Combine(dir, imagesName), labels = Path.Combine(dir, labelsName);
        // Both files are checked before either is read, so a half-installed set fails fast and names the gap.
        foreach (string file in new[] { images, labels })
        {
            if (!File.Exists(file) && !Directory.Exists(file))
            {
                string where = Directory.Exists(dir) ? $"searched {dir} ({source})" : $"directory {dir} ({source}) does not exist";
                throw new DataFormatException(file,
                    $"FashionMNIST file not found; {where}. Install it with `sudo apt-get install dataset-fashion-mnist`, " +
                    $"or pass --data-dir / set {DirectoryVariable} to the directory holding the FashionMNIST IDX files");
            }
        }

        var (pixels, count, rows, columns) = Idx.ReadImages(images);
        if (rows != Side || columns != Side)
            throw new DataFormatException(images, $"images are {rows}x{columns}, FashionMNIST images are {Side}x{Side}");
        byte[] raw = Idx.ReadLabels(labels);
        if (raw.Length != count)
            throw new DataFormatException(labels,
                $"image count and label count disagree: {images} holds {count} images but {labels} holds {raw.Length} labels");
        var labelValues = new int[count];
        for (int i = 0; i < raw.Length; i++)
        {
            if (raw[i] >= ClassNames.Count)
                throw new DataFormatException(labels, $"label {raw[i]} at index {i} is outside 0..{ClassNames.Count - 1}");
            labelValues[i] = raw[i];
        }
        return new Dataset(pixels, labelValues, rows, columns);
    }
}
