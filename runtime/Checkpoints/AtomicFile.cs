using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;

namespace GraphGen.Checkpoints;

/// <summary>
/// Writes files so that a reader (or a restarted program) sees either the old file or the whole new one: the bytes
/// go to a temporary file beside the target, are flushed to disk, and the temporary file is renamed over the target.
/// A symbolic link is written through (its final target is replaced; the link stays a link); a target that exists
/// but is not a regular file (a directory, a device, a FIFO, a socket) is refused. Temporary files left behind by a
/// killed process are removed by the next write of the same target.
/// </summary>
public static class AtomicFile
{
    // The longest file name Linux, macOS and Windows file systems accept, in bytes (UTF-8) or UTF-16 units.
    private const int MaxNameBytes = 255;
    private const string TempMarker = ".tmp-";
    private const int GuidLength = 32;

    /// <summary>Test hook: called with "create", "write", "fsync" or "rename" and the target's full path just before
    /// each file-system call of a write. The fault-injection tests (tests/GraphGen.Tests/Faults) kill the process here.</summary>
    internal static Action<string, string>? Failpoint;

    /// <summary>Writes <paramref name="path"/> atomically with the bytes <paramref name="write"/> puts into the stream.</summary>
    /// <param name="path">The file to create or replace (or a symbolic link to it).</param>
    /// <param name="write">Writes the contents; it may throw, and then nothing changes.</param>
    /// <exception cref="IOException">The file could not be written; the message names <paramref name="path"/> and the
    /// reason (missing directory, permission, read-only or full file system, name too long, not a regular file). The
    /// previous file is intact and no temporary file is left.</exception>
    public static void Write(string path, Action<Stream> write) => Commit(path, write, rename: true);

    /// <summary>
    /// Proves that <see cref="Write"/> of the same bytes to <paramref name="path"/> would succeed now, without touching
    /// <paramref name="path"/>: writes them to a temporary file beside it, flushes it to disk and deletes it. Catches a
    /// missing directory, missing permission, a read-only or too small file system, a name too long, and a target that
    /// is not a regular file, before any work is done that a failed write would lose.
    /// </summary>
    /// <param name="path">The file a later <see cref="Write"/> will create or replace.</param>
    /// <param name="write">Writes contents of the size the later write will have.</param>
    /// <exception cref="IOException">As for <see cref="Write"/>.</exception>
    public static void Probe(string path, Action<Stream> write) => Commit(path, write, rename: false);

    /// <summary>
    /// Throws unless <paramref name="path"/> is missing or (after following links) a regular file. Opening a FIFO
    /// blocks until another process opens its other end, and a device never ends: readers call this first.
    /// </summary>
    /// <param name="path">The file about to be opened.</param>
    /// <exception cref="IOException">The path is a directory, FIFO, device or socket; the message names it.</exception>
    public static void RequireRegularFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Kind(path, followLinks: true) is { } kind)
            throw new IOException($"{path} is {kind}, not a regular file");
    }

    private static void Commit(string path, Action<Stream> write, bool rename)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(write);
        CheckName(path, Path.GetFileName(path));
        string target = Target(path);
        string directory = Path.GetDirectoryName(target)!;
        string name = Path.GetFileName(target);
        CheckName(path, name);
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"cannot write {path}: the directory {directory} does not exist");
        if (Kind(target, followLinks: false) is { } kind)
            throw new IOException($"cannot write {path}: {(target == Path.GetFullPath(path) ? "it" : target)} is {kind}, not a regular file");

        string prefix = TempPrefix(name);
        RemoveStale(directory, prefix);
        string temp = Path.Combine(directory, prefix + Guid.NewGuid().ToString("N"));
        FileStream? file = null;
        try
        {
            Failpoint?.Invoke("create", target);
            // Unbuffered: every Write of the caller is one write call, and a failure surfaces in that call.
            // FileShare.None takes an exclusive advisory lock (flock) on Unix: RemoveStale skips files in use.
            file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
            write(Failpoint is null ? file : new HookedStream(file, target));
            Failpoint?.Invoke("fsync", target);
            // Without this a power cut after the rename could leave the new name pointing at unwritten blocks.
            file.Flush(flushToDisk: true);
            if (rename)
            {
                // Renamed while still open (and locked) on Unix, so that no other writer's RemoveStale can take it.
                if (OperatingSystem.IsWindows()) { file.Dispose(); file = null; }
                Failpoint?.Invoke("rename", target);
                File.Move(temp, target, overwrite: true);
            }
            else
            {
                file.Dispose();
                file = null;
                File.Delete(temp);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            file?.Dispose();
            TryDelete(temp);
            throw new IOException($"cannot write {path}: {Reason(e, temp, target)}", e);
        }
        catch
        {
            file?.Dispose();
            TryDelete(temp);
            throw;
        }
        file?.Dispose();
    }

    private static void CheckName(string path, string name)
    {
        if (name.Length == 0) throw new IOException($"cannot write {path}: it names a directory, not a file");
        if (Encoding.UTF8.GetByteCount(name) > MaxNameBytes)
            throw new PathTooLongException($"cannot write {path}: the file name is {Encoding.UTF8.GetByteCount(name)} bytes long; file systems allow {MaxNameBytes}");
    }

    /// <summary>The full path that a write replaces: <paramref name="path"/> itself, or the final target of a link.</summary>
    private static string Target(string path)
    {
        string full = Path.GetFullPath(path);
        FileSystemInfo? link;
        try
        {
            link = File.ResolveLinkTarget(full, returnFinalTarget: true);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return full; // nothing there yet: the directory check reports a missing directory
        }
        catch (IOException e)
        {
            // A cycle of links, or one too many levels.
            throw new IOException($"cannot write {path}: cannot follow its symbolic links: {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"cannot write {path}: cannot follow its symbolic links: {e.Message}", e);
        }
        return link is null ? full : Path.GetFullPath(link.FullName);
    }

    /// <summary>The temporary files of a target: its name, cut so that the whole fits in <see cref="MaxNameBytes"/>,
    /// then ".tmp-" and a GUID.</summary>
    private static string TempPrefix(string name)
    {
        int room = MaxNameBytes - TempMarker.Length - GuidLength;
        while (Encoding.UTF8.GetByteCount(name) > room)
            name = name[..(char.IsLowSurrogate(name[^1]) && name.Length > 1 ? ^2 : ^1)];
        return name + TempMarker;
    }

    /// <summary>Deletes the temporary files a killed writer left: ours by name, and not locked by a live writer.</summary>
    private static void RemoveStale(string directory, string prefix)
    {
        string[] candidates;
        try { candidates = Directory.GetFiles(directory, prefix + "*"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
        foreach (string candidate in candidates)
        {
            string suffix = Path.GetFileName(candidate)[prefix.Length..];
            if (suffix.Length != GuidLength || !Guid.TryParseExact(suffix, "N", out _)) continue;
            if (Kind(candidate, followLinks: false) is not null) continue; // never open a FIFO or device
            try
            {
                // Fails while the writer that created it still holds its lock.
                using var probe = new FileStream(candidate, FileMode.Open, FileAccess.Read, FileShare.None);
                File.Delete(candidate);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    // errno values, the same on Linux and macOS; .NET puts them in IOException.HResult.
    private const int ENOSPC = 28, EROFS = 30, EDQUOT_LINUX = 122, EDQUOT_MAC = 69;

    private static string Reason(Exception e, string temp, string target) => e switch
    {
        DirectoryNotFoundException => $"the directory {Path.GetDirectoryName(target)} does not exist",
        PathTooLongException => "the path is too long",
        UnauthorizedAccessException => $"permission denied in {Path.GetDirectoryName(target)}",
        IOException { HResult: ENOSPC } => "no space left on the device",
        IOException { HResult: EROFS } => "the file system is read-only",
        IOException { HResult: EDQUOT_LINUX or EDQUOT_MAC } => "the disk quota is exceeded",
        _ => e.Message.Replace(temp, target, StringComparison.Ordinal),
    };

    /// <summary>What <paramref name="path"/> is when it exists and is not a regular file ("a directory", "a FIFO", ...);
    /// null when it is a regular file, is missing, or the type cannot be told.</summary>
    internal static string? Kind(string path, bool followLinks)
    {
        int mode = -1;
        if (!OperatingSystem.IsWindows())
        {
            try { mode = Unix.Mode(path, followLinks); }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
        }
        if (mode == -1)
            return Directory.Exists(path) && (followLinks || File.ResolveLinkTarget(path, false) is null) ? "a directory" : null;
        return (mode & 0xF000) switch
        {
            0x1000 => "a FIFO (named pipe)",
            0x2000 => "a character device",
            0x4000 => "a directory",
            0x6000 => "a block device",
            0xC000 => "a socket",
            _ => null, // a regular file, or a link that was not followed
        };
    }

    /// <summary>The file type bits of stat(2), through the .NET runtime's own native shim (which every .NET on Unix
    /// ships): its FileStatus starts with two int32 fields, Flags and Mode, and Mode uses the POSIX S_IF* values.</summary>
    private static class Unix
    {
        [DllImport("libSystem.Native", EntryPoint = "SystemNative_Stat", SetLastError = true)]
        private static extern unsafe int Stat(byte* path, byte* status);

        [DllImport("libSystem.Native", EntryPoint = "SystemNative_LStat", SetLastError = true)]
        private static extern unsafe int LStat(byte* path, byte* status);

        /// <summary>The st_mode of <paramref name="path"/>, or -1 when it cannot be stat'ed (e.g. missing).</summary>
        public static unsafe int Mode(string path, bool followLinks)
        {
            byte[] name = Encoding.UTF8.GetBytes(path + "\0");
            byte* status = stackalloc byte[512]; // FileStatus is about 150 bytes; room for growth
            fixed (byte* p = name)
            {
                int rc = followLinks ? Stat(p, status) : LStat(p, status);
                return rc == 0 ? *(int*)(status + 4) : -1;
            }
        }
    }

    /// <summary>Calls <see cref="Failpoint"/> before each write.</summary>
    private sealed class HookedStream(Stream inner, string target) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Failpoint?.Invoke("write", target);
            inner.Write(buffer);
        }
    }
}
