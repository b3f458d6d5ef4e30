using System;
using System.Collections.Generic;
using System.IO;

namespace GraphGen.Data;

/// <summary>
/// Reads a folder of PNG images with one subfolder per class, as torchvision's ImageFolder does:
/// <c>root/cat/001.png, root/dog/xyz.png</c>. Classes are the subfolder names sorted ordinally (label 0 is
/// the first); images are read in ordinal order of their names. Every image must have the same size.
/// The result holds byte pixels, planar [C, H, W], so the network's byte fast path applies.
/// Decoding is done by <c>GraphGen</c>'s own small managed PNG decoder (no native code, no dependency; safe
/// for Native AOT): 8-bit grey-scale, RGB, palette, with or without alpha, not interlaced.
/// </summary>
public static class ImageFolder
{
    /// <summary>Loads every PNG under the class subfolders of <paramref name="root"/>.</summary>
    /// <param name="root">The folder holding one subfolder per class. Names starting with '.' are skipped.</param>
    /// <param name="channels">1: grey-scale (colour is converted as PIL's convert("L"): (19595 R + 38470 G + 7471 B + 2^15) >> 16);
    /// 3: RGB (grey-scale is repeated in each channel). Alpha is dropped.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="channels"/> is neither 1 nor 3.</exception>
    /// <exception cref="DataFormatException">The folder is missing or has no classes, a class folder is empty or holds something
    /// other than PNG files, an image is malformed or unsupported, or two images differ in size.</exception>
    public static Dataset Load(string root, int channels = 3)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        if (channels is not (1 or 3))
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "images are read with 1 (grey-scale) or 3 (RGB) channels");
        if (File.Exists(root))
            throw new DataFormatException(root, "is a file, expected a folder holding one subfolder of PNG images per class");
        if (!Directory.Exists(root))
            throw new DataFormatException(root, "folder not found");

        string[] classes = Visible(Directory.GetDirectories(root));
        if (classes.Length == 0)
            throw new DataFormatException(root, "holds no class subfolders: expected one subfolder of PNG images per class (root/cat/1.png, root/dog/2.png)");
        var files = new List<string>();
        var labels = new List<int>();
        for (int c = 0; c < classes.Length; c++)
        {
            string[] nested = Visible(Directory.GetDirectories(classes[c]));
            if (nested.Length > 0)
                throw new DataFormatException(nested[0], "is a folder inside a class folder: each class folder must hold PNG files only");
            string[] images = Visible(Directory.GetFiles(classes[c]));
            if (images.Length == 0)
                throw new DataFormatException(classes[c], "class folder holds no PNG images");
            foreach (string image in images)
            {
                if (!image.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
                    throw new DataFormatException(image, "is not a .png file: class folders must hold PNG images only");
                files.Add(image);
                labels.Add(c);
            }
        }

        byte[]? pixels = null;
        int width = 0, height = 0, size = 0;
        for (int i = 0; i < files.Count; i++)
        {
            DataFile.CheckRegular(files[i], "a PNG image");
            byte[] file;
            try { file = File.ReadAllBytes(files[i]); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new DataFormatException(files[i], $"cannot read the file ({e.Message})", e);
            }
            var (image, w, h, inChannels) = Png.Decode(files[i], file);
            if (pixels is null)
            {
                (width, height, size) = (w, h, channels * w * h);
                if ((long)size * files.Count > Array.MaxLength)
                    throw new DataFormatException(root, $"{files.Count} images of {w}x{h}x{channels} are more than one array can hold");
                pixels = new byte[(long)size * files.Count];
            }
            else if (w != width || h != height)
            {
                throw new DataFormatException(files[i], $"is {w}x{h} pixels but {files[0]} is {width}x{height}: every image must have the same size");
            }
            ToPlanar(image, inChannels, channels, w * h, pixels.AsSpan(i * size, size));
        }
        string[] names = Array.ConvertAll(classes, c => Path.GetFileName(c));
        return new Dataset(pixels!, labels.ToArray(), [channels, height, width]) { ClassNames = names };
    }

    // Interleaved decoder output (1 or 3 channels) to planar C x H x W with the requested channel count.
    internal static void ToPlanar(ReadOnlySpan<byte> image, int inChannels, int channels, int area, Span<byte> output)
    {
        for (int p = 0; p < area; p++)
        {
            if (inChannels == channels)
            {
                for (int c = 0; c < channels; c++) output[c * area + p] = image[p * inChannels + c];
            }
            else if (channels == 3) // grey to RGB
            {
                output[p] = output[area + p] = output[2 * area + p] = image[p];
            }
            else // RGB to grey, as PIL
            {
                int r = image[3 * p], g = image[3 * p + 1], b = image[3 * p + 2];
                output[p] = (byte)((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);
            }
        }
    }

    // Entries whose names do not start with '.', sorted ordinally by name.
    private static string[] Visible(string[] paths)
    {
        string[] visible = Array.FindAll(paths, p => !Path.GetFileName(p).StartsWith('.'));
        Array.Sort(visible, StringComparer.Ordinal);
        return visible;
    }
}
