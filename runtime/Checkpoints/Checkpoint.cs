using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using GraphGen.Training;

namespace GraphGen.Checkpoints;

/// <summary>
/// Saves a network's parameter and state tensors to a safetensors file under their checkpoint names
/// (e.g. "conv1.weight", "batchnorm1.moving_var") and PyTorch shapes, and loads them back; with an
/// <see cref="Optimizer"/>, its state tensors ("optimizer.step", "optimizer.conv1.weight.exp_avg", ...) too.
/// </summary>
public static class Checkpoint
{
    /// <summary>Metadata key holding the <see cref="INetwork.Name"/> of the network that was saved.</summary>
    public const string NetworkKey = "graphgen.network";

    /// <summary>Metadata key holding the checkpoint layout version, <see cref="FormatVersion"/>.</summary>
    public const string FormatKey = "graphgen.format";

    /// <summary>The checkpoint layout version this code writes and reads.</summary>
    public const string FormatVersion = "1";

    /// <summary>Metadata key holding the <see cref="Optimizer.Kind"/> whose state the file holds, if any.</summary>
    public const string OptimizerKey = "graphgen.optimizer";

    /// <summary>Metadata key holding a description of the network's layers (<see cref="Architecture"/>): two networks
    /// with the same tensor shapes but another activation, say, differ here.</summary>
    public const string ArchitectureKey = "graphgen.architecture";

    /// <summary>Metadata key holding "sha256:" and the hex SHA-256 of the tensors' names, shapes and data in file order
    /// (<see cref="Checksum"/>), optimizer state included. Loading verifies it when present; files without one (older ones) still load.</summary>
    public const string ChecksumKey = "graphgen.checksum";

    private const string ChecksumPrefix = "sha256:";

    /// <summary>
    /// Writes every tensor of <paramref name="net"/> atomically to <paramref name="path"/> (see
    /// <see cref="Safetensors.Write"/>). The metadata always holds <see cref="NetworkKey"/>, <see cref="FormatKey"/>,
    /// <see cref="ArchitectureKey"/> and <see cref="ChecksumKey"/>; entries of <paramref name="metadata"/> (e.g.
    /// "graphgen.epoch") are added to them.
    /// </summary>
    /// <param name="net">The network to save.</param>
    /// <param name="path">The file to create or replace (through a symbolic link, its target); a previous file survives any failure.</param>
    /// <param name="metadata">Extra metadata entries.</param>
    /// <param name="optimizer">The optimizer attached to <paramref name="net"/>, whose state tensors are saved too (and its kind under <see cref="OptimizerKey"/>).</param>
    /// <exception cref="InvalidOperationException">A tensor (optimizer state included) holds NaN or ±∞, or a moving variance
    /// is negative: such a checkpoint would be refused by <see cref="Load(INetwork, string)"/>, so it is not written.</exception>
    /// <exception cref="IOException">The file could not be written; the message names <paramref name="path"/> and why.</exception>
    public static void Save(INetwork net, string path, IReadOnlyDictionary<string, string>? metadata = null, Optimizer? optimizer = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var (tensors, entries) = Snapshot(net, metadata, optimizer);
        if (BadValues(net, tensors) is { } problem)
            throw new InvalidOperationException($"{net.Name} is not saved to {path}: {problem}");
        Safetensors.Write(path, tensors, entries);
    }

    /// <summary>
    /// Writes the same bytes as <see cref="Save(INetwork, string, IReadOnlyDictionary{string, string}?, Optimizer?)"/> to
    /// <paramref name="stream"/> (a memory stream, a browser download, an HTTP response) from its current position. There is
    /// no atomic replacement: what the stream is written to is the caller's.
    /// </summary>
    /// <param name="net">The network to save.</param>
    /// <param name="stream">A writable stream; it is left open.</param>
    /// <param name="metadata">Extra metadata entries.</param>
    /// <param name="optimizer">The optimizer attached to <paramref name="net"/>, whose state tensors are saved too.</param>
    /// <exception cref="InvalidOperationException">A tensor holds NaN or ±∞, or a moving variance is negative; nothing is written.</exception>
    /// <exception cref="ArgumentException"><paramref name="stream"/> is not writable.</exception>
    public static void Save(INetwork net, Stream stream, IReadOnlyDictionary<string, string>? metadata = null, Optimizer? optimizer = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanWrite) throw new ArgumentException("the stream is not writable", nameof(stream));
        var (tensors, entries) = Snapshot(net, metadata, optimizer);
        if (BadValues(net, tensors) is { } problem)
            throw new InvalidOperationException($"{net.Name} is not saved: {problem}");
        Safetensors.WriteTo(stream, tensors, entries);
    }

    /// <summary>
    /// Proves that <see cref="Save(INetwork, string, IReadOnlyDictionary{string, string}?, Optimizer?)"/> of <paramref name="net"/> to <paramref name="path"/> would succeed now, without
    /// touching <paramref name="path"/> (see <see cref="AtomicFile.Probe"/>): a checkpoint of the same size is written
    /// beside it, flushed and deleted. Call it before work that a failed save at the end would lose.
    /// </summary>
    /// <param name="net">The network that will be saved.</param>
    /// <param name="path">The file a later <see cref="Save(INetwork, string, IReadOnlyDictionary{string, string}?, Optimizer?)"/> will write.</param>
    /// <param name="optimizer">The optimizer whose state the later <see cref="Save(INetwork, string, IReadOnlyDictionary{string, string}?, Optimizer?)"/> will write too, if any.</param>
    /// <exception cref="IOException">The save would fail; the message names <paramref name="path"/> and why.</exception>
    public static void CheckWritable(INetwork net, string path, Optimizer? optimizer = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var (tensors, entries) = Snapshot(net, null, optimizer);
        Safetensors.Probe(path, tensors, entries);
    }

    private static (List<SafetensorsTensor> Tensors, Dictionary<string, string> Metadata) Snapshot(INetwork net, IReadOnlyDictionary<string, string>? metadata, Optimizer? optimizer)
    {
        ArgumentNullException.ThrowIfNull(net);
        CheckOptimizer(net, optimizer);
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        if (metadata is not null)
        {
            foreach (var (key, value) in metadata) entries[key] = value;
        }
        var tensors = new List<SafetensorsTensor>(net.Tensors.Count);
        foreach (TensorInfo info in net.Tensors)
            tensors.Add(new SafetensorsTensor(info.Name, (int[])info.Shape.Clone(), net.Tensor(info.Name).ToArray()));
        if (optimizer is not null)
            foreach (TensorInfo info in optimizer.State)
                tensors.Add(new SafetensorsTensor(info.Name, (int[])info.Shape.Clone(), optimizer.StateTensor(info.Name).ToArray()));
        entries[NetworkKey] = net.Name;
        entries[FormatKey] = FormatVersion;
        if (optimizer is not null) entries[OptimizerKey] = optimizer.Kind;
        entries[ArchitectureKey] = Architecture(net);
        entries[ChecksumKey] = Checksum(tensors);
        return (tensors, entries);
    }

    /// <summary>
    /// Reads <paramref name="path"/> and copies its values into <paramref name="net"/>. Everything is checked first:
    /// the file must be valid, hold exactly the network's tensors with the network's shapes, match its checksum if it
    /// has one, hold only finite values and non-negative moving variances, and come from the same network (see
    /// <see cref="Load(INetwork, string, bool)"/>). Optimizer state in the file is skipped (see
    /// <see cref="Load(INetwork, string, Optimizer?, bool)"/> to resume a run with it). If any check fails, nothing
    /// is written into the network.
    /// </summary>
    /// <param name="net">The network to load into.</param>
    /// <param name="path">The checkpoint file.</param>
    /// <returns>The file's metadata.</returns>
    /// <exception cref="CheckpointException">The file is unreadable or malformed, or does not fit the network; the message names the first problem.</exception>
    public static IReadOnlyDictionary<string, string> Load(INetwork net, string path) => Load(net, path, null, allowOtherNetwork: false);

    /// <summary>
    /// As <see cref="Load(INetwork, string)"/>. A file saved from another network, one whose
    /// <see cref="ArchitectureKey"/> differs from <paramref name="net"/>'s (or, in files without that key, whose
    /// <see cref="NetworkKey"/> differs from its name), is refused unless <paramref name="allowOtherNetwork"/> is true:
    /// a ReLU network's weights have the shapes of the sigmoid network's but do not compute the same function.
    /// A renamed class with the same layers loads either way.
    /// </summary>
    /// <param name="net">The network to load into.</param>
    /// <param name="path">The checkpoint file.</param>
    /// <param name="allowOtherNetwork">Load the weights of another network with the same tensors on purpose (e.g. to
    /// start training from them). No other check can be waived.</param>
    /// <returns>The file's metadata.</returns>
    /// <exception cref="CheckpointException">The file is unreadable or malformed, or does not fit the network; the message names the first problem.</exception>
    public static IReadOnlyDictionary<string, string> Load(INetwork net, string path, bool allowOtherNetwork) => Load(net, path, null, allowOtherNetwork);

    /// <summary>
    /// As <see cref="Load(INetwork, string, bool)"/>, and with <paramref name="optimizer"/> its state too: the file must
    /// then hold state of the same <see cref="Optimizer.Kind"/> (under <see cref="OptimizerKey"/>) with the optimizer's
    /// tensors and shapes. Without one, optimizer state in the file is skipped. If any check fails, nothing is written
    /// into the network or the optimizer.
    /// </summary>
    /// <param name="net">The network to load into.</param>
    /// <param name="path">The checkpoint file.</param>
    /// <param name="optimizer">The optimizer attached to <paramref name="net"/>, to load its state too (resuming a run).</param>
    /// <param name="allowOtherNetwork">Load the weights of another network with the same tensors on purpose.</param>
    /// <returns>The file's metadata.</returns>
    /// <exception cref="CheckpointException">The file is unreadable or malformed, or does not fit the network or the optimizer; the message names the first problem.</exception>
    public static IReadOnlyDictionary<string, string> Load(INetwork net, string path, Optimizer? optimizer, bool allowOtherNetwork = false)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(path);
        CheckOptimizer(net, optimizer);
        return Apply(net, Safetensors.Read(path), path, optimizer, allowOtherNetwork);
    }

    /// <summary>
    /// As <see cref="Load(INetwork, string, Optimizer?, bool)"/>, reading the checkpoint from <paramref name="stream"/> (from
    /// its current position to its end), e.g. bytes a browser page received or a resource embedded in an assembly. Every
    /// check of the file overload is made, and nothing is written into the network unless all pass.
    /// </summary>
    /// <param name="net">The network to load into.</param>
    /// <param name="stream">A readable stream; it is read to its end and left open. A stream that cannot seek is copied to memory first.</param>
    /// <param name="name">What error messages call the checkpoint (a file name, a URL).</param>
    /// <param name="optimizer">The optimizer attached to <paramref name="net"/>, to load its state too; null skips optimizer state.</param>
    /// <param name="allowOtherNetwork">Load the weights of another network with the same tensors on purpose.</param>
    /// <returns>The checkpoint's metadata.</returns>
    /// <exception cref="CheckpointException">The bytes are unreadable or malformed, or do not fit the network or the optimizer;
    /// the message names <paramref name="name"/> and the first problem.</exception>
    public static IReadOnlyDictionary<string, string> Load(INetwork net, Stream stream, string name, Optimizer? optimizer = null, bool allowOtherNetwork = false)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(name);
        if (!stream.CanRead) throw new ArgumentException("the stream is not readable", nameof(stream));
        CheckOptimizer(net, optimizer);
        SafetensorsFile file;
        if (stream.CanSeek)
        {
            file = Safetensors.Read(stream, stream.Length - stream.Position, name);
        }
        else
        {
            var copy = new MemoryStream();
            try { stream.CopyTo(copy); }
            catch (Exception e) when (e is IOException or NotSupportedException or ObjectDisposedException)
            {
                throw new CheckpointException(name, $"cannot read the stream: {e.Message}", e);
            }
            copy.Position = 0;
            file = Safetensors.Read(copy, copy.Length, name);
        }
        return Apply(net, file, name, optimizer, allowOtherNetwork);
    }

    private static IReadOnlyDictionary<string, string> Apply(INetwork net, SafetensorsFile file, string path, Optimizer? optimizer, bool allowOtherNetwork)
    {
        if (Mismatch(net, file, optimizer) is { } problem)
        {
            // The saved name only explains a mismatch: a renamed class with the same tensors still loads.
            if (file.Metadata.TryGetValue(NetworkKey, out string? saved) && saved != net.Name)
                problem += $" (the file was saved from {saved}, not {net.Name})";
            throw new CheckpointException(path, problem);
        }
        if (!allowOtherNetwork && OtherNetwork(net, file) is { } other)
            throw new CheckpointException(path, other) { IsOtherNetwork = true };
        if (file.Metadata.TryGetValue(ChecksumKey, out string? checksum) && checksum != Checksum(file.Tensors))
        {
            throw new CheckpointException(path, checksum.StartsWith(ChecksumPrefix, StringComparison.Ordinal)
                ? $"the tensor data does not match {ChecksumKey}: the file was damaged or edited after it was saved"
                : $"{ChecksumKey} is '{Clip(checksum)}', not '{ChecksumPrefix}' and 64 hex digits");
        }
        if (BadValues(net, file.Tensors) is { } bad)
            throw new CheckpointException(path, bad);
        // Only now is INetwork.Tensor called: it counts as a write (it invalidates folded weights), so the
        // checks above look at TensorInfo alone.
        foreach (TensorInfo info in net.Tensors)
        {
            float[] values = file.Find(info.Name)!.Data;
            Span<float> target = net.Tensor(info.Name);
            if (target.Length != values.Length)
                throw new InvalidOperationException($"{net.Name}.Tensor(\"{info.Name}\") has {target.Length} values but its shape {Safetensors.Format(info.Shape)} has {values.Length}.");
            values.CopyTo(target);
        }
        if (optimizer is not null)
            foreach (TensorInfo info in optimizer.State)
                file.Find(info.Name)!.Data.CopyTo(optimizer.StateTensor(info.Name));
        return file.Metadata;
    }

    private static void CheckOptimizer(INetwork net, Optimizer? optimizer)
    {
        if (optimizer is not null && !ReferenceEquals(optimizer.Network, net))
            throw new ArgumentException($"the {optimizer.Kind} optimizer is not attached to {net.Name}; attach it first (Optimizer.Attach)", nameof(optimizer));
    }

    private static string? OptimizerMismatch(SafetensorsFile file, Optimizer? optimizer)
    {
        if (optimizer is null) return null;
        file.Metadata.TryGetValue(OptimizerKey, out string? saved);
        if (saved is null)
            return $"the file holds no optimizer state, and this run's {optimizer.Kind} optimizer needs it (load it without the optimizer to start a new run from its weights)";
        if (saved != optimizer.Kind)
            return $"the file holds {saved} optimizer state, this run uses {optimizer.Kind}";
        return null;
    }

    /// <summary>
    /// The layers of <paramref name="net"/> as one line: the input shape, then each layer's kind and the settings that
    /// change what it computes, separated by "; ", e.g. "[1,28,28]; Conv2D(outputs 6, kernel 5, stride 1);
    /// BatchNorm(eps 1E-05, momentum 0.9); Sigmoid; ...". Stored under <see cref="ArchitectureKey"/>.
    /// </summary>
    /// <param name="net">The network.</param>
    public static string Architecture(INetwork net)
    {
        ArgumentNullException.ThrowIfNull(net);
        var parts = new List<string>(net.Layers.Count + 1);
        if (net.Layers.Count > 0) parts.Add(Safetensors.Format(net.Layers[0].InputShape));
        foreach (LayerInfo layer in net.Layers) parts.Add(Describe(layer));
        return string.Join(Separator, parts);
    }

    private const string Separator = "; ";

    private static string Describe(LayerInfo layer)
    {
        var settings = new List<string>();
        if (layer.Outputs != 0) settings.Add(string.Create(CultureInfo.InvariantCulture, $"outputs {layer.Outputs}"));
        // Rectangular windows read "kernel 3x1"; square ones keep the single number they always had.
        static string Axes(int height, int width) => height == width ? height.ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"{height}x{width}");
        if (layer.Kernel != 0 || layer.KernelWidth != 0) settings.Add($"kernel {Axes(layer.Kernel, layer.KernelWidth)}");
        if (layer.Stride != 0 || layer.StrideWidth != 0) settings.Add($"stride {Axes(layer.Stride, layer.StrideWidth)}");
        if (layer.Padding != 0 || layer.PaddingWidth != 0) settings.Add($"padding {Axes(layer.Padding, layer.PaddingWidth)}");
        if (layer.Groups != 1) settings.Add(string.Create(CultureInfo.InvariantCulture, $"groups {layer.Groups}"));
        if (layer.Epsilon != 0) settings.Add(string.Create(CultureInfo.InvariantCulture, $"eps {layer.Epsilon:R}"));
        if (layer.Momentum != 0) settings.Add(string.Create(CultureInfo.InvariantCulture, $"momentum {layer.Momentum:R}"));
        return settings.Count == 0 ? layer.Kind.ToString() : $"{layer.Kind}({string.Join(", ", settings)})";
    }

    /// <summary>"sha256:" and the lowercase hex SHA-256 of each tensor's UTF-8 name, a zero byte, its dimensions as
    /// little-endian int64 and its little-endian float32 data, in list order. Swapping two tensors' data changes it.</summary>
    internal static string Checksum(IReadOnlyList<SafetensorsTensor> tensors)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> word = stackalloc byte[8];
        foreach (SafetensorsTensor t in tensors)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(t.Name));
            hash.AppendData([0]);
            foreach (int d in t.Shape)
            {
                BinaryPrimitives.WriteInt64LittleEndian(word, d);
                hash.AppendData(word);
            }
            if (BitConverter.IsLittleEndian)
            {
                hash.AppendData(MemoryMarshal.AsBytes(t.Data.AsSpan()));
            }
            else
            {
                var bits = new int[t.Data.Length];
                BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<float, int>(t.Data.AsSpan()), bits);
                hash.AppendData(MemoryMarshal.AsBytes(bits.AsSpan()));
            }
        }
#if NET9_0_OR_GREATER
        return ChecksumPrefix + Convert.ToHexStringLower(hash.GetHashAndReset());
#else
        return ChecksumPrefix + Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant();
#endif
    }

    /// <summary>Why the file is another network's, or null.</summary>
    private static string? OtherNetwork(INetwork net, SafetensorsFile file)
    {
        file.Metadata.TryGetValue(NetworkKey, out string? savedName);
        string from = savedName is null ? "another network" : savedName == net.Name ? $"another {net.Name}" : savedName;
        const string hint = "; load it anyway only if that is meant (allowOtherNetwork)";
        if (file.Metadata.TryGetValue(ArchitectureKey, out string? saved))
        {
            string mine = Architecture(net);
            if (saved == mine) return null;
            string[] a = saved.Split(Separator), b = mine.Split(Separator);
            int i = 0;
            while (i < a.Length && i < b.Length && a[i] == b[i]) i++;
            string first = i == 0 ? "the input" : i <= net.Layers.Count ? $"layer {i} ({net.Layers[i - 1].Name})" : $"layer {i}";
            string theirs = i < a.Length ? a[i] : "nothing", ours = i < b.Length ? b[i] : "nothing";
            return $"the file holds {from}, whose layers differ from {net.Name}'s at {first}: {Clip(theirs)} in the file, {ours} in {net.Name}{hint}";
        }
        if (savedName is not null && savedName != net.Name)
            return $"the file was saved from {savedName}, not {net.Name}{hint}";
        return null;
    }

    /// <summary>The first NaN or ±∞ value, or negative moving variance, or null.</summary>
    private static string? BadValues(INetwork net, IReadOnlyList<SafetensorsTensor> tensors)
    {
        var kinds = new Dictionary<string, TensorKind>(StringComparer.Ordinal);
        foreach (TensorInfo info in net.Tensors) kinds[info.Name] = info.Kind;
        foreach (SafetensorsTensor t in tensors)
        {
            float[] v = t.Data;
            int first = Array.FindIndex(v, x => !float.IsFinite(x));
            if (first >= 0)
            {
                int count = v.Count(x => !float.IsFinite(x));
                return $"tensor '{t.Name}' holds {v[first].ToString(CultureInfo.InvariantCulture)} at index {first} ({count} of {v.Length} values are not finite): the weights of a diverged run";
            }
            bool variance = kinds.GetValueOrDefault(t.Name) == TensorKind.State && t.Name.EndsWith("moving_var", StringComparison.Ordinal);
            int negative = variance ? Array.FindIndex(v, x => x < 0) : -1;
            if (negative >= 0)
                return $"tensor '{t.Name}' holds the negative variance {v[negative].ToString("R", CultureInfo.InvariantCulture)} at index {negative}";
        }
        return null;
    }

    private static string Clip(string text) => text.Length <= 200 ? text : text[..200] + "…";

    private static string? Mismatch(INetwork net, SafetensorsFile file, Optimizer? optimizer)
    {
        if (file.Metadata.TryGetValue(FormatKey, out string? format) && format != FormatVersion)
            return $"{FormatKey} is '{format}', but this version reads '{FormatVersion}'";
        if (optimizer is not null && OptimizerMismatch(file, optimizer) is { } wrong) return wrong;
        IEnumerable<TensorInfo> expectedTensors = optimizer is null ? net.Tensors : net.Tensors.Concat(optimizer.State);
        foreach (TensorInfo info in expectedTensors)
        {
            if (file.Find(info.Name) is not { } t)
            {
                string has = file.Tensors.Count <= 20
                    ? "the file has " + (file.Tensors.Count == 0 ? "no tensors" : string.Join(", ", file.Tensors.Select(x => x.Name)))
                    : $"the file has {file.Tensors.Count} tensors";
                return $"tensor '{info.Name}' of {net.Name} is missing; {has}";
            }
            if (!t.Shape.AsSpan().SequenceEqual(info.Shape))
                return $"{info.Name}: file has {Safetensors.Format(t.Shape)}, {net.Name} has {Safetensors.Format(info.Shape)}";
        }
        var expected = new HashSet<string>(expectedTensors.Select(x => x.Name), StringComparer.Ordinal);
        foreach (SafetensorsTensor t in file.Tensors)
        {
            if (optimizer is null && t.Name.StartsWith(Optimizer.Prefix, StringComparison.Ordinal)) continue;
            if (!expected.Contains(t.Name))
                return $"the file has tensor '{t.Name}', which {net.Name} does not have";
        }
        return null;
    }
}
