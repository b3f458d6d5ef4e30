using System;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using GraphGen.Checkpoints;
using Xunit;

namespace GraphGen.Tests.Checkpoints;

/// <summary>Issue 12, items 4, 5, 8 and 9: how a save treats links, special files, long names and the temporary
/// files a killed save leaves; reading a FIFO.</summary>
public sealed class AtomicFileTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static void Write(string path, string text) => AtomicFile.Write(path, s => s.Write(Encoding.UTF8.GetBytes(text)));

    private static bool IsLink(string path) => new FileInfo(path).LinkTarget is not null;

    /// <summary>Every name in the directory, files, links and special files alike.</summary>
    private string[] Entries() => Directory.GetFileSystemEntries(_dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    [Fact]
    public void SymbolicLink_IsWrittenThrough_AndStaysALink()
    {
        string real = _dir.File("real.st"), link = _dir.File("link.st");
        File.WriteAllText(real, "old");
        File.CreateSymbolicLink(link, "real.st");
        Write(link, "new");
        Assert.True(IsLink(link), "the link was replaced by a regular file");
        Assert.Equal("new", File.ReadAllText(real));
        Assert.Equal(["link.st", "real.st"], Entries());
    }

    [Fact]
    public void ChainOfRelativeLinks_ReachesTheFinalTarget()
    {
        Directory.CreateDirectory(_dir.File("sub"));
        string real = _dir.File("real.st");
        File.WriteAllText(real, "old");
        File.CreateSymbolicLink(_dir.File("sub/second.st"), "../real.st");
        File.CreateSymbolicLink(_dir.File("first.st"), "sub/second.st");
        Write(_dir.File("first.st"), "new");
        Assert.Equal("new", File.ReadAllText(real));
        Assert.True(IsLink(_dir.File("first.st")) && IsLink(_dir.File("sub/second.st")));
        Assert.Equal(["second.st"], Directory.GetFileSystemEntries(_dir.File("sub")).Select(Path.GetFileName));
    }

    [Fact]
    public void DanglingLink_CreatesItsTarget()
    {
        string link = _dir.File("link.st");
        File.CreateSymbolicLink(link, "made.st");
        Write(link, "data");
        Assert.True(IsLink(link));
        Assert.Equal("data", File.ReadAllText(_dir.File("made.st")));
    }

    [Fact]
    public void LinkToADirectory_IsRefused()
    {
        Directory.CreateDirectory(_dir.File("d"));
        File.CreateSymbolicLink(_dir.File("link.st"), "d");
        var e = Assert.Throws<IOException>(() => Write(_dir.File("link.st"), "x"));
        Assert.Equal($"cannot write {_dir.File("link.st")}: {_dir.File("d")} is a directory, not a regular file", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(_dir.File("d")));
    }

    [Fact]
    public void Directory_IsRefused()
    {
        Directory.CreateDirectory(_dir.File("d"));
        var e = Assert.Throws<IOException>(() => Write(_dir.File("d"), "x"));
        Assert.Equal($"cannot write {_dir.File("d")}: it is a directory, not a regular file", e.Message);
    }

    [DllImport("libc", SetLastError = true, EntryPoint = "mkfifo")]
    private static extern int MkFifo(string path, uint mode);

    internal static void MakeFifo(string path)
    {
        if (MkFifo(path, Convert.ToUInt32("600", 8)) != 0) throw new IOException($"mkfifo {path} failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [SkippableFact]
    public void Fifo_IsNeitherWrittenNorRead()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "FIFOs are made with Linux's mkfifo here");
        string fifo = _dir.File("pipe.st");
        MakeFifo(fifo);
        // Holding both ends open: were the reader to open it (the old behaviour) it would not block forever, but fail otherwise.
        using var hold = new FileStream(fifo, FileMode.Open, FileAccess.ReadWrite);
        var write = Assert.Throws<IOException>(() => Write(fifo, "x"));
        Assert.Equal($"cannot write {fifo}: it is a FIFO (named pipe), not a regular file", write.Message);
        var read = Assert.Throws<CheckpointException>(() => Safetensors.Read(fifo));
        Assert.Equal($"{fifo}: it is a FIFO (named pipe), not a regular file", read.Message);
        Assert.Equal("a FIFO (named pipe)", AtomicFile.Kind(fifo, followLinks: true));
        Assert.Equal(["pipe.st"], Entries());
    }

    [SkippableFact]
    public void CharacterDevice_IsRefused()
    {
        Skip.IfNot(File.Exists("/dev/null"), "no /dev/null");
        string link = _dir.File("null.st");
        File.CreateSymbolicLink(link, "/dev/null");
        var e = Assert.Throws<IOException>(() => Write(link, "x"));
        Assert.Equal($"cannot write {link}: /dev/null is a character device, not a regular file", e.Message);
        Assert.Equal("a character device", AtomicFile.Kind("/dev/null", followLinks: true));
    }

    [Fact]
    public void Socket_IsRefused()
    {
        string path = _dir.File("sock.st");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        var e = Assert.Throws<IOException>(() => Write(path, "x"));
        Assert.Equal($"cannot write {path}: it is a socket, not a regular file", e.Message);
    }

    [Theory]
    [InlineData(218)]
    [InlineData(219)]
    [InlineData(240)]
    [InlineData(255)]
    public void LongNames_UpToTheLimit_AreWritten(int length)
    {
        string path = _dir.File(new string('n', length));
        Write(path, "old");
        Write(path, "new");
        Assert.Equal("new", File.ReadAllText(path));
        Assert.Single(Entries());
    }

    [Fact]
    public void LongMultiByteName_IsCutAtACharacterForTheTemporaryFile()
    {
        string path = _dir.File(new string('é', 127)); // 254 bytes
        Write(path, "x");
        Assert.Equal("x", File.ReadAllText(path));
    }

    [Fact]
    public void NameOverTheLimit_IsRefusedWithItsLength()
    {
        string path = _dir.File(new string('n', 256));
        var e = Assert.Throws<PathTooLongException>(() => Write(path, "x"));
        Assert.Equal($"cannot write {path}: the file name is 256 bytes long; file systems allow 255", e.Message);
        Assert.Empty(Entries());
    }

    [Fact]
    public void StaleTemporaryFiles_AreRemoved_ButNotALiveWritersOrOthers()
    {
        string path = _dir.File("model.st");
        string stale1 = path + ".tmp-" + Guid.NewGuid().ToString("N"), stale2 = path + ".tmp-" + Guid.NewGuid().ToString("N");
        string live = path + ".tmp-" + Guid.NewGuid().ToString("N");
        string notOurs = path + ".tmp-notaguid", otherTarget = _dir.File("other.st.tmp-" + Guid.NewGuid().ToString("N"));
        foreach (string f in new[] { stale1, stale2, live, notOurs, otherTarget }) File.WriteAllText(f, "partial");
        // A writer that is still running holds an exclusive lock on its temporary file.
        using (var writer = new FileStream(live, FileMode.Open, FileAccess.Write, FileShare.None))
        {
            Write(path, "data");
            Assert.True(File.Exists(live), "the live writer's temporary file was deleted");
        }
        Assert.False(File.Exists(stale1) || File.Exists(stale2), "a stale temporary file survived the next save");
        Assert.True(File.Exists(notOurs) && File.Exists(otherTarget));
        Assert.Equal("data", File.ReadAllText(path));
    }

    [Fact]
    public void Probe_ProvesTheWrite_WithoutTouchingTheTarget()
    {
        string path = _dir.File("model.st");
        File.WriteAllText(path, "old");
        AtomicFile.Probe(path, s => s.Write(new byte[100_000]));
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal(["model.st"], Entries());

        string missing = Path.Combine(_dir.Path, "no", "dir", "model.st");
        var e = Assert.Throws<DirectoryNotFoundException>(() => AtomicFile.Probe(missing, s => s.Write(new byte[8])));
        Assert.Equal($"cannot write {missing}: the directory {Path.GetDirectoryName(missing)} does not exist", e.Message);
    }

    [Fact]
    public void FailureInsideTheWrite_KeepsTheOldFile_AndNamesTheTarget()
    {
        string path = _dir.File("model.st");
        Write(path, "old");
        var e = Assert.Throws<IOException>(() => AtomicFile.Write(path, s => { s.Write(new byte[10]); throw new IOException("disk on fire"); }));
        Assert.Equal($"cannot write {path}: disk on fire", e.Message);
        Assert.DoesNotContain(".tmp-", e.Message);
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal(["model.st"], Entries());
    }
}
