using System;
using System.IO;

namespace GraphGen.Tests.Data;

/// <summary>A fresh temporary directory, deleted on dispose; xunit makes one per test via the test class.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("graphgen-data-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string WriteBytes(string name, byte[] bytes)
    {
        string file = File(name);
        System.IO.File.WriteAllBytes(file, bytes);
        return file;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { } // a leftover temp dir must not fail a test
    }
}
