using System;
using System.Collections.Generic;
using System.IO;

namespace GraphGen.Data;

/// <summary>
/// Reads one PNG image as a network's byte input, for classifying a picture of one's own
/// (<c>net.Infer(PngImage.Read("shirt.png", net.InputShape), logits)</c>). The image is decoded by the
/// decoder <see cref="ImageFolder"/> uses and converted the same way: colour to grey-scale as PIL's
/// convert("L") (luminance, ITU-R 601), grey-scale repeated in each channel of an RGB input, alpha dropped.
/// The image is not resized: its size must be the network's, so that nothing is guessed about cropping,
/// aspect ratio or filtering.
/// </summary>
public static class PngImage
{
    /// <summary>The pixels of the PNG at <paramref name="path"/>, planar [C, H, W] as <paramref name="shape"/> says.</summary>
    /// <param name="path">An 8-bit grey-scale, RGB or palette PNG, with or without alpha, not interlaced.</param>
    /// <param name="shape">The network's input shape (<see cref="INetwork.InputShape"/>): [channels, height, width] with 1 or 3
    /// channels, or [height, width] for one channel.</param>
    /// <exception cref="ArgumentException"><paramref name="shape"/> is not an image shape of 1 or 3 channels.</exception>
    /// <exception cref="DataFormatException">The file is missing, not a regular file, not a PNG the decoder supports,
    /// corrupt, or not height x width pixels.</exception>
    public static byte[] Read(string path, IReadOnlyList<int> shape)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Count is not (2 or 3) || (shape.Count == 3 && shape[0] is not (1 or 3)) || shape[^1] < 1 || shape[^2] < 1)
            throw new ArgumentException($"({string.Join(", ", shape)}) is not an image shape: expected (channels, height, width) with 1 or 3 channels, or (height, width)", nameof(shape));
        int channels = shape.Count == 3 ? shape[0] : 1, height = shape[^2], width = shape[^1];
        DataFile.CheckRegular(path, "a PNG image");
        byte[] file;
        try { file = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException(path, $"cannot read the file ({e.Message})", e);
        }
        var (image, w, h, inChannels) = Png.Decode(path, file);
        if (w != width || h != height)
            throw new DataFormatException(path, $"is {w}x{h} pixels; the network takes {width}x{height} images (resize it first, e.g. convert in.png -resize {width}x{height}! out.png)");
        var pixels = new byte[channels * width * height];
        ImageFolder.ToPlanar(image, inChannels, channels, width * height, pixels);
        return pixels;
    }
}
