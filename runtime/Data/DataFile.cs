using System;
using System.IO;
using System.Runtime.InteropServices;

namespace GraphGen.Data;

/// <summary>Checks made before a data file is opened, so that a bad path fails at once with one clear message.</summary>
internal static partial class DataFile
{
    /// <summary>Throws <see cref="DataFormatException"/> unless <paramref name="path"/> is an existing regular
    /// file (or a link to one). A FIFO, socket or device is refused before it is opened: opening a FIFO
    /// waits for a writer, forever if none comes.</summary>
    /// <param name="path">The file.</param>
    /// <param name="expected">What the file should be, for the message: "an IDX file", "a CSV file".</param>
    public static void CheckRegular(string path, string expected)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path))
            throw new DataFormatException(path, $"is a directory, expected {expected}");
        if (!File.Exists(path))
            throw new DataFormatException(path, "file not found");
        if (SpecialKind(path) is string kind)
            throw new DataFormatException(path, $"is {kind}, not a regular file; expected {expected}");
    }

    /// <summary>"a FIFO (named pipe)", "a character device", ... for a special file; null for a regular
    /// file, a directory, or where the type cannot be told (then only <see cref="File.Exists"/> was checked).</summary>
    internal static string? SpecialKind(string path)
    {
        if (!OperatingSystem.IsLinux()) return null;
        int mode;
        try { mode = StatxMode(path); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return null; }
        return (mode & 0xF000) switch
        {
            0x1000 => "a FIFO (named pipe)",
            0x2000 => "a character device",
            0x6000 => "a block device",
            0xC000 => "a socket",
            _ => null, // regular file, directory, or stat failed (-1: the open reports that)
        };
    }

    // statx(2) has the same struct layout on every Linux architecture, unlike stat(2); links are followed.
    private static unsafe int StatxMode(string path)
    {
        const int AtFdCwd = -100;
        const uint StatxType = 1;
        byte* buffer = stackalloc byte[256];
        int length = System.Text.Encoding.UTF8.GetByteCount(path);
        byte* name = stackalloc byte[length + 1];
        System.Text.Encoding.UTF8.GetBytes(path, new Span<byte>(name, length));
        name[length] = 0;
        if (Statx(AtFdCwd, name, 0, StatxType, buffer) != 0) return -1;
        return *(ushort*)(buffer + 28); // stx_mode
    }

    [LibraryImport("libc", EntryPoint = "statx")]
    private static unsafe partial int Statx(int dirfd, byte* path, int flags, uint mask, byte* statx);
}
