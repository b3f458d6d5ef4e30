using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using System.Linq;
using GraphGen.Data;
using Xunit;

namespace GraphGen.Tests.Data;

public sealed class IdxTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    // 3 images of 2x4, every pixel distinct so a misplaced byte shows.
    private static readonly byte[] Pixels = Enumerable.Range(0, 24).Select(i => (byte)(i * 10)).ToArray();

    /// <summary>Raw IDX bytes: big-endian magic and dimensions, then the data.</summary>
    internal static byte[] Raw(int magic, int[] dims, byte[] data)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        for (int i = 0; i < dims.Length; i++)
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    internal static byte[] Gzip(byte[] bytes)
    {
        using var memory = new MemoryStream();
        using (var gzip = new GZipStream(memory, CompressionLevel.Optimal))
            gzip.Write(bytes);
        return memory.ToArray();
    }

    private static DataFormatException Fails(string path, Action read, params string[] phrases)
    {
        var e = Assert.Throws<DataFormatException>(read);
        Assert.Equal(path, e.Path);
        Assert.Contains(path, e.Message);
        foreach (string phrase in phrases)
            Assert.Contains(phrase, e.Message);
        return e;
    }

    private string WriteImagesRaw(int magic, int[] dims, byte[] data, bool gzip = false)
    {
        byte[] raw = Raw(magic, dims, data);
        return _dir.WriteBytes("images.idx", gzip ? Gzip(raw) : raw);
    }

    private static void ReadImages(string path) => Idx.ReadImages(path);
    private static void ReadLabels(string path) => Idx.ReadLabels(path);

    // ---- round trips ----

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Images_round_trip(bool gzip)
    {
        string path = _dir.File("images");
        Idx.WriteImages(path, Pixels, 3, 2, 4, gzip);

        byte[] file = File.ReadAllBytes(path);
        Assert.Equal(gzip ? new byte[] { 0x1F, 0x8B } : new byte[] { 0, 0, 8, 3 }, file[..(gzip ? 2 : 4)]);
        var (pixels, count, rows, columns) = Idx.ReadImages(path);
        Assert.Equal(Pixels, pixels);
        Assert.Equal((3, 2, 4), (count, rows, columns));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Labels_round_trip(bool gzip)
    {
        string path = _dir.File("labels");
        byte[] labels = [9, 0, 3, 3, 255];
        Idx.WriteLabels(path, labels, gzip);

        Assert.Equal(gzip ? 0x1F : 0, File.ReadAllBytes(path)[0]);
        Assert.Equal(labels, Idx.ReadLabels(path));
    }

    [Fact]
    public void Plain_file_matches_the_IDX_layout_byte_for_byte()
    {
        string path = _dir.File("images");
        Idx.WriteImages(path, Pixels, 3, 2, 4, gzip: false);
        Assert.Equal(Raw(0x803, [3, 2, 4], Pixels), File.ReadAllBytes(path));
    }

    [Fact]
    public void Empty_set_round_trips()
    {
        string path = _dir.File("images");
        Idx.WriteImages(path, [], 0, 28, 28);
        var (pixels, count, rows, columns) = Idx.ReadImages(path);
        Assert.Empty(pixels);
        Assert.Equal((0, 28, 28), (count, rows, columns));
    }

    [Fact]
    public void Compression_is_detected_from_content_not_extension()
    {
        string gzipped = _dir.File("images.idx"), plain = _dir.File("images.gz");
        Idx.WriteImages(gzipped, Pixels, 3, 2, 4, gzip: true);
        Idx.WriteImages(plain, Pixels, 3, 2, 4, gzip: false);
        Assert.Equal(Pixels, Idx.ReadImages(gzipped).Pixels);
        Assert.Equal(Pixels, Idx.ReadImages(plain).Pixels);
    }

    [Fact]
    public void Write_rejects_a_pixel_count_that_disagrees_with_the_shape() =>
        Assert.Throws<ArgumentException>(() => Idx.WriteImages(_dir.File("x"), Pixels, 4, 2, 4));

    // ---- the file itself ----

    [Fact]
    public void Missing_file()
    {
        string path = _dir.File("nothing-here.gz");
        Fails(path, () => ReadImages(path), "file not found");
    }

    [Fact]
    public void Directory_instead_of_file()
    {
        string path = _dir.Path;
        Fails(path, () => ReadLabels(path), "is a directory");
    }

    [Fact]
    public void Empty_file()
    {
        string path = _dir.WriteBytes("empty.gz", []);
        Fails(path, () => ReadImages(path), "file is empty");
    }

    // ---- gzip ----

    [Fact]
    public void Gzip_truncated_inside_the_data()
    {
        byte[] gz = Gzip(Raw(0x803, [3, 2, 4], Pixels));
        string path = _dir.WriteBytes("images.gz", gz[..(gz.Length / 2)]);
        Fails(path, () => ReadImages(path), "truncated");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(8)]
    public void Gzip_truncated_inside_the_trailer(int cut)
    {
        // GZipStream itself does not notice a missing trailer: the data is all there but unchecked.
        byte[] gz = Gzip(Raw(0x803, [3, 2, 4], Pixels));
        string path = _dir.WriteBytes("images.gz", gz[..^cut]);
        Fails(path, () => ReadImages(path), "truncated");
    }

    [Fact]
    public void Gzip_with_a_corrupt_stream()
    {
        byte[] gz = Gzip(Raw(0x803, [3, 2, 4], Pixels));
        gz[gz.Length - 6] ^= 0xFF; // CRC
        string path = _dir.WriteBytes("images.gz", gz);
        var e = Fails(path, () => ReadImages(path), "corrupt gzip stream");
        Assert.IsType<InvalidDataException>(e.InnerException);
    }

    [Fact]
    public void Gzip_shorter_than_any_gzip_file()
    {
        string path = _dir.WriteBytes("images.gz", [0x1F, 0x8B, 8, 0]);
        Fails(path, () => ReadImages(path), "corrupt gzip stream");
    }

    [Fact]
    public void Gzip_followed_by_garbage()
    {
        byte[] gz = Gzip(Raw(0x803, [3, 2, 4], Pixels));
        string path = _dir.WriteBytes("images.gz", [.. gz, 1, 2, 3]);
        Fails(path, () => ReadImages(path), "trailing garbage");
    }

    [Fact]
    public void Gzip_with_more_data_than_the_header_promises()
    {
        string path = WriteImagesRaw(0x803, [2, 2, 4], Pixels, gzip: true);
        Fails(path, () => ReadImages(path), "trailing garbage", "16 bytes of pixels");
    }

    [Fact]
    public void Gzip_header_promising_more_than_present()
    {
        string path = WriteImagesRaw(0x803, [30, 2, 4], Pixels, gzip: true);
        Fails(path, () => ReadImages(path), "decompressed data holds 24 bytes of pixels but the header promises 240");
    }

    [Fact]
    public void Gzip_header_promising_gigabytes_allocates_only_what_is_there()
    {
        string path = WriteImagesRaw(0x803, [1_000_000, 40, 50], Pixels, gzip: true);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Fails(path, () => ReadImages(path), "holds 24 bytes of pixels but the header promises 2000000000");
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "a lying header must not size the buffer");
    }

    // ---- header ----

    [Fact]
    public void Label_file_read_as_images()
    {
        string path = _dir.WriteBytes("labels", Raw(0x801, [3], [1, 2, 3]));
        Fails(path, () => ReadImages(path), "wrong IDX magic 0x00000801, expected 0x00000803", "this looks like a label file");
    }

    [Fact]
    public void Image_file_read_as_labels()
    {
        string path = WriteImagesRaw(0x803, [3, 2, 4], Pixels, gzip: true);
        Fails(path, () => ReadLabels(path), "wrong IDX magic 0x00000803, expected 0x00000801", "this looks like an image file");
    }

    [Fact]
    public void Not_an_IDX_file()
    {
        string path = _dir.WriteBytes("picture.png", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        Fails(path, () => ReadImages(path), "wrong IDX magic 0x89504E47", "not an IDX file");
    }

    [Fact]
    public void Wrong_data_type()
    {
        string path = WriteImagesRaw(0x00000D03, [3, 2, 4], Pixels);
        Fails(path, () => ReadImages(path), "data type 0x0D (float32), expected 0x08");
    }

    [Fact]
    public void Wrong_number_of_dimensions()
    {
        string path = WriteImagesRaw(0x00000804, [3, 2, 2, 2], Pixels);
        Fails(path, () => ReadImages(path), "4 dimensions, expected 3");
    }

    [Fact]
    public void File_ends_inside_the_magic()
    {
        string path = _dir.WriteBytes("images", [0, 0]);
        Fails(path, () => ReadImages(path), "ends after 2 bytes, inside the 4-byte IDX magic");
    }

    [Fact]
    public void File_ends_inside_the_dimensions()
    {
        string path = _dir.WriteBytes("images", Raw(0x803, [3, 2, 4], [])[..10]);
        Fails(path, () => ReadImages(path), "ends inside the IDX header");
    }

    [Theory]
    [InlineData(3, 0, 4)]
    [InlineData(3, 2, -4)]
    [InlineData(-3, 2, 4)]
    public void Absurd_dimensions(int count, int rows, int columns)
    {
        string path = WriteImagesRaw(0x803, [count, rows, columns], Pixels);
        Fails(path, () => ReadImages(path), "absurd dimensions");
    }

    [Fact]
    public void Dimensions_beyond_any_array()
    {
        string path = WriteImagesRaw(0x803, [int.MaxValue, int.MaxValue, int.MaxValue], Pixels);
        Fails(path, () => ReadImages(path), "absurd dimensions", "bytes a single array can hold");
    }

    [Fact]
    public void Plain_header_promising_more_than_present()
    {
        string path = WriteImagesRaw(0x803, [30, 2, 4], Pixels);
        Fails(path, () => ReadImages(path), "file holds 24 bytes of pixels but the header promises 240");
    }

    [Fact]
    public void Plain_file_with_trailing_garbage()
    {
        string path = _dir.WriteBytes("images", [.. Raw(0x803, [3, 2, 4], Pixels), 0]);
        Fails(path, () => ReadImages(path), "trailing garbage", "file holds 25 bytes of pixels but the header promises 24");
    }

    [Fact]
    public void Label_header_promising_more_than_present()
    {
        string path = _dir.WriteBytes("labels", Raw(0x801, [5], [1, 2, 3]));
        Fails(path, () => ReadLabels(path), "file holds 3 bytes of labels but the header promises 5");
    }

    // ---- issue 12, item 9: multi-member gzip, a bad CRC, a FIFO ----

    [Fact]
    public void Multi_member_gzip_is_read_whole()
    {
        // gzip -c a > f; gzip -c b >> f: a valid file that zcat reads as a then b. Split inside the header and inside the pixels.
        byte[] raw = Raw(0x803, [3, 2, 4], Pixels);
        byte[] file = [.. Gzip(raw[..6]), .. Gzip(raw[6..17]), .. Gzip(raw[17..])];
        string path = _dir.WriteBytes("images.gz", file);
        var (pixels, count, rows, columns) = Idx.ReadImages(path);
        Assert.Equal(Pixels, pixels);
        Assert.Equal((3, 2, 4), (count, rows, columns));
    }

    [Fact]
    public void Multi_member_gzip_followed_by_garbage_is_still_refused()
    {
        byte[] raw = Raw(0x803, [3, 2, 4], Pixels);
        string path = _dir.WriteBytes("images.gz", [.. Gzip(raw[..10]), .. Gzip(raw[10..]), 7, 7, 7, 7, 7, 7, 7, 7, 7]);
        Fails(path, () => ReadImages(path), "trailing garbage");
    }

    [Fact]
    public void Gzip_with_a_bad_CRC_says_bad_CRC()
    {
        byte[] gz = Gzip(Raw(0x803, [3, 2, 4], Pixels));
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(gz.AsSpan(gz.Length - 8));
        gz[gz.Length - 8] ^= 0x01;
        string path = _dir.WriteBytes("images.gz", gz);
        var e = Fails(path, () => ReadImages(path), "bad CRC-32", $"CRC-32 0x{crc:X8}", $"records 0x{crc ^ 1:X8}");
        Assert.DoesNotContain("unsupported compression method", e.Message);
    }

    [Fact]
    public void Bad_CRC_in_the_first_of_two_members_names_the_member()
    {
        byte[] raw = Raw(0x803, [3, 2, 4], Pixels);
        byte[] first = Gzip(raw[..10]);
        first[^6] ^= 0x40;
        string path = _dir.WriteBytes("images.gz", [.. first, .. Gzip(raw[10..])]);
        Fails(path, () => ReadImages(path), "bad CRC-32", "gzip member 1 (at byte 0)");
    }

    [Fact]
    public void Gzip_with_a_bad_length_in_the_trailer_says_so()
    {
        byte[] gz = Gzip(Raw(0x803, [3, 2, 4], Pixels));
        gz[^4] ^= 0x02;
        string path = _dir.WriteBytes("images.gz", gz);
        Fails(path, () => ReadImages(path), "bad length", "decompresses to 40 bytes, the trailer records 42");
    }

    [Fact]
    public void Gzip_with_corrupt_deflate_data_says_so()
    {
        // A stored (uncompressed) block whose length and its complement disagree.
        byte[] gz = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF, 0x01, 0x05, 0x00, 0x00, 0x00, 1, 2, 3, 4, 5, 0, 0, 0, 0, 5, 0, 0, 0];
        string path = _dir.WriteBytes("images.gz", gz);
        Fails(path, () => ReadImages(path), "corrupt gzip stream", "corrupt deflate data");
    }

    [Fact]
    public void A_FIFO_is_refused_at_once()
    {
        string path = _dir.File("pipe");
        MakeFifo(path);
        // Opening a FIFO waits for a writer: on a regression the read would hang, so it runs aside and is unblocked.
        var read = System.Threading.Tasks.Task.Run(() => Assert.Throws<DataFormatException>(() => Idx.ReadImages(path)));
        if (!read.Wait(TimeSpan.FromSeconds(30)))
        {
            using (new FileStream(path, FileMode.Open, FileAccess.Write)) { }
            Assert.Fail("reading a FIFO blocked instead of refusing it");
        }
        var e = read.Result;
        Assert.Equal(path, e.Path);
        Assert.Contains("is a FIFO (named pipe), not a regular file; expected an IDX file", e.Message);
    }

    internal static void MakeFifo(string path)
    {
        Assert.True(OperatingSystem.IsLinux(), "the FIFO tests need Linux (statx tells the file type)");
        using var mkfifo = System.Diagnostics.Process.Start("mkfifo", [path]);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }

    [Fact]
    public void A_character_device_is_refused()
    {
        Fails("/dev/null", () => ReadImages("/dev/null"), "is a character device, not a regular file");
    }

    // ---- any shape ----

    [Fact]
    public void Read_takes_any_number_of_dimensions()
    {
        byte[] data = Enumerable.Range(0, 24).Select(i => (byte)i).ToArray();
        string path = _dir.WriteBytes("x.idx", Gzip(Raw(0x804, [2, 3, 2, 2], data)));
        var (read, dims) = Idx.Read(path);
        Assert.Equal(data, read);
        Assert.Equal(new[] { 2, 3, 2, 2 }, dims);
    }

    [Fact]
    public void Read_refuses_other_data_types_and_ranks()
    {
        string path = WriteImagesRaw(0x00000D02, [3, 8], Pixels);
        Fails(path, () => Idx.Read(path), "data type 0x0D (float32), expected 0x08");
        path = _dir.WriteBytes("zero", Raw(0x800, [], []));
        Fails(path, () => Idx.Read(path), "0 dimensions, expected 1 to 16");
    }

    [Fact]
    public void LoadDataset_of_32x32_images_has_one_channel()
    {
        var pixels = new byte[2 * 32 * 32];
        pixels[32 * 32 + 5] = 200;
        string images = _dir.File("i.gz"), labels = _dir.File("l.gz");
        Idx.WriteImages(images, pixels, 2, 32, 32);
        Idx.WriteLabels(labels, [4, 1]);
        Dataset set = Idx.LoadDataset(images, labels);
        Assert.Equal(new[] { 1, 32, 32 }, set.Shape);
        Assert.Equal(new[] { 4, 1 }, set.Labels.ToArray());
        Assert.Equal(200, set.Image(1)[5]);
        Assert.True(set.IsBytes);
    }

    [Fact]
    public void LoadDataset_keeps_other_shapes()
    {
        string samples = _dir.WriteBytes("s", Raw(0x804, [2, 3, 2, 2], new byte[24]));
        string labels = _dir.WriteBytes("l", Raw(0x801, [2], [0, 1]));
        Assert.Equal(new[] { 3, 2, 2 }, Idx.LoadDataset(samples, labels).Shape);
        samples = _dir.WriteBytes("f", Raw(0x802, [2, 12], new byte[24]));
        Assert.Equal(new[] { 12 }, Idx.LoadDataset(samples, labels).Shape);
    }

    [Fact]
    public void LoadDataset_bad_input()
    {
        string samples = _dir.WriteBytes("s", Raw(0x803, [3, 2, 4], Pixels));
        string two = _dir.WriteBytes("two", Raw(0x801, [2], [0, 1]));
        Fails(two, () => Idx.LoadDataset(samples, two), "sample count and label count disagree", "holds 3 samples", "holds 2 labels");
        string big = _dir.WriteBytes("big", Raw(0x801, [3], [0, 10, 1]));
        Fails(big, () => Idx.LoadDataset(samples, big, classes: 10), "label 10 at index 1 is outside 0..9");
        Fails(two, () => Idx.LoadDataset(two, two), "a sample file needs a count and at least one sample dimension");
        Fails(samples, () => Idx.LoadDataset(samples, samples), "wrong IDX magic 0x00000803, expected 0x00000801");
    }
}
