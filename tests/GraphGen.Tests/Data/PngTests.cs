using System;
using System.Linq;
using GraphGen.Data;
using SkiaSharp;
using Xunit;

namespace GraphGen.Tests.Data;

public sealed class PngTests
{
    private const string Path = "image.png";

    // 7x5 pixels whose every sample differs from its neighbours, so a wrong filter or offset shows.
    private static byte[] Samples(int width, int height, int channels) =>
        Enumerable.Range(0, width * height * channels).Select(i => (byte)(i * 37 + i / 3 * 11 + 5)).ToArray();

    private static (byte[] Pixels, int Width, int Height, int Channels) Decode(byte[] png) => Png.Decode(Path, png);

    private static DataFormatException Fails(byte[] png, params string[] phrases)
    {
        var e = Assert.Throws<DataFormatException>(() => Png.Decode(Path, png));
        Assert.Equal(Path, e.Path);
        foreach (string phrase in phrases) Assert.Contains(phrase, e.Message);
        return e;
    }

    [Fact]
    public void The_test_encoder_writes_PNGs_that_SkiaSharp_decodes_to_the_same_pixels()
    {
        byte[] rgb = Samples(7, 5, 3);
        using var bitmap = SKBitmap.Decode(PngWriter.Encode(7, 5, 2, rgb));
        Assert.NotNull(bitmap);
        for (int y = 0; y < 5; y++)
            for (int x = 0; x < 7; x++)
            {
                SKColor color = bitmap.GetPixel(x, y);
                int i = (y * 7 + x) * 3;
                Assert.Equal((rgb[i], rgb[i + 1], rgb[i + 2]), (color.Red, color.Green, color.Blue));
            }
    }

    [Fact]
    public void RGB_with_every_filter_type()
    {
        byte[] rgb = Samples(7, 5, 3); // rows 0..4 use filters 0..4
        var (pixels, width, height, channels) = Decode(PngWriter.Encode(7, 5, 2, rgb));
        Assert.Equal((7, 5, 3), (width, height, channels));
        Assert.Equal(rgb, pixels);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Each_filter_on_every_row_including_the_first(int filter)
    {
        byte[] rgba = Samples(6, 4, 4);
        var (pixels, _, _, channels) = Decode(PngWriter.Encode(6, 4, 6, rgba, filter: _ => filter));
        Assert.Equal(3, channels); // alpha dropped
        byte[] rgb = Enumerable.Range(0, 24).SelectMany(p => rgba.Skip(4 * p).Take(3)).ToArray();
        Assert.Equal(rgb, pixels);
    }

    [Fact]
    public void Grey_and_grey_with_alpha()
    {
        byte[] grey = Samples(5, 3, 1);
        var (pixels, _, _, channels) = Decode(PngWriter.Encode(5, 3, 0, grey));
        Assert.Equal(1, channels);
        Assert.Equal(grey, pixels);

        byte[] greyAlpha = Samples(5, 3, 2);
        (pixels, _, _, channels) = Decode(PngWriter.Encode(5, 3, 4, greyAlpha));
        Assert.Equal(1, channels);
        Assert.Equal(greyAlpha.Where((_, i) => i % 2 == 0).ToArray(), pixels);
    }

    [Fact]
    public void Palette_is_expanded_to_RGB()
    {
        byte[] palette = [10, 20, 30, 40, 50, 60, 70, 80, 90];
        byte[] indices = [0, 1, 2, 2, 1, 0];
        var (pixels, _, _, channels) = Decode(PngWriter.Encode(3, 2, 3, indices, palette));
        Assert.Equal(3, channels);
        Assert.Equal(new byte[] { 10, 20, 30, 40, 50, 60, 70, 80, 90, 70, 80, 90, 40, 50, 60, 10, 20, 30 }, pixels);
    }

    [Fact]
    public void Ancillary_chunks_are_skipped()
    {
        byte[] grey = Samples(2, 2, 1);
        byte[] png = PngWriter.Encode(2, 2, 0, grey, extraChunks: s => PngWriter.Chunk(s, "tEXt", "Title\0x"u8.ToArray()));
        Assert.Equal(grey, Decode(png).Pixels);
    }

    // ---- bad input ----

    [Fact]
    public void Not_a_PNG() => Fails([0xFF, 0xD8, 0xFF, 0xE0, 0, 0, 0, 0, 0], "not a PNG file");

    [Theory]
    [InlineData(16, 2, "RGB PNG with 16-bit samples is not supported")]
    [InlineData(4, 3, "palette PNG with 4-bit samples is not supported")]
    [InlineData(1, 0, "grey-scale PNG with 1-bit samples is not supported")]
    public void Other_bit_depths(int depth, int colorType, string phrase) =>
        Fails(PngWriter.Encode(2, 2, colorType, new byte[12], palette: colorType == 3 ? new byte[3] : null, bitDepth: depth), phrase);

    [Fact]
    public void Interlaced() => Fails(PngWriter.Encode(2, 2, 0, new byte[4], interlace: 1), "interlaced (Adam7) PNG is not supported");

    [Fact]
    public void Unknown_color_type() => Fails(PngWriter.Encode(2, 2, 5, new byte[4]), "color type 5 does not exist");

    [Fact]
    public void Bad_chunk_CRC()
    {
        byte[] png = PngWriter.Encode(2, 2, 0, new byte[4]);
        png[8 + 8 + 13] ^= 1; // IHDR's CRC
        Fails(png, "PNG chunk IHDR at byte 8 has a bad CRC-32");
    }

    [Fact]
    public void Truncated()
    {
        byte[] png = PngWriter.Encode(4, 4, 2, Samples(4, 4, 3));
        Fails(png[..^12], "without an IEND chunk (truncated file)"); // IEND cut off
        Fails(png[..40], "truncated file");
    }

    [Fact]
    public void Image_data_shorter_than_the_image()
    {
        // The header says 4 rows; the data holds 2.
        byte[] png = PngWriter.Encode(4, 2, 0, new byte[8]);
        png[8 + 8 + 7] = 4; // height
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(8 + 8 + 13), PngWriter.Crc(png.AsSpan(12, 17)));
        Fails(png, "decompresses to 10 bytes, 4x4 pixels need 20 (truncated file)");
    }

    [Fact]
    public void Palette_index_beyond_the_palette() =>
        Fails(PngWriter.Encode(2, 1, 3, [0, 2], palette: [1, 2, 3, 4, 5, 6]), "pixel (1, 0) uses palette entry 2, the palette has 2");

    [Fact]
    public void Palette_image_without_a_palette() =>
        Fails(PngWriter.Encode(2, 1, 3, [0, 0]), "palette PNG without a palette");

    [Fact]
    public void Unknown_filter_type() =>
        Fails(PngWriter.Encode(2, 2, 0, new byte[4], filter: y => y == 1 ? 7 : 0), "PNG row 1 has filter type 7");

    [Fact]
    public void Unknown_critical_chunk() =>
        Fails(PngWriter.Encode(2, 2, 0, new byte[4], extraChunks: s => PngWriter.Chunk(s, "ABCD", [])), "unknown critical chunk ABCD");

    [Fact]
    public void First_chunk_not_IHDR()
    {
        var png = new System.IO.MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        PngWriter.Chunk(png, "IDAT", [1, 2]);
        Fails(png.ToArray(), "the first PNG chunk is IDAT, expected IHDR");
    }

    [Fact]
    public void Corrupt_zlib_data()
    {
        byte[] png = PngWriter.Encode(3, 3, 0, Samples(3, 3, 1));
        int idat = 8 + 25; // first IDAT chunk
        png[idat + 8 + 1] ^= 0xFF; // zlib header's second byte: the header check fails
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(idat + 8 + (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(idat))),
            PngWriter.Crc(png.AsSpan(idat + 4, 4 + (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(idat)))));
        Fails(png, "corrupt PNG image data");
    }
}
