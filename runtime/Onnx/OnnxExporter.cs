using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using GraphGen.Onnx.Nodes;

namespace GraphGen.Onnx;

/// <summary>
/// Writes a network, in inference mode, as an ONNX model (IR version 8, default-domain opset 13) that
/// ONNX Runtime and other ONNX consumers can run. The protobuf is encoded by hand, so the runtime needs
/// no package and stays NativeAOT-compatible.
/// </summary>
/// <remarks>
/// <para>The model has one input, <c>input</c>, of shape [N, C, H, W] (or [N, features] for a flat
/// network) and one output, <c>logits</c>, of shape [N, classes], where N is the symbolic batch
/// dimension <c>"N"</c>. Each layer becomes one node named after the layer (a Dense on a [C, H, W] value is
/// preceded by a Flatten, a SiLU by a Sigmoid); the parameters become
/// initializers under their checkpoint names (<c>conv1.weight</c>, <c>batchnorm1.moving_var</c>, ...).</para>
/// <para>Layer mapping: Conv2D → Conv (symmetric pads, strides, O×I×kH×kW weight, bias); Dense → Gemm with
/// transB = 1 (out×in weight), preceded by a Flatten (axis 1) when its input is 4-D; BatchNorm →
/// BatchNormalization with the moving statistics (scale = gamma, B = beta, mean = moving_mean,
/// var = moving_var); Sigmoid, ReLU, Tanh → Sigmoid, Relu, Tanh; LeakyReLU → LeakyRelu with alpha = the slope
/// (as a float); SiLU → Sigmoid, then Mul of the input and that sigmoid (no SiLU operator needed); Dropout →
/// Identity (its step counter is not exported); MaxPool2D/AvgPool2D → MaxPool/AveragePool
/// without padding; GlobalAvgPool2D → GlobalAveragePool; Add → Add of two inputs of equal shape; Concat →
/// Concat (axis 1) of two or more inputs in order, all [N, C, H, W] with the same H×W or all [N, features]
/// (the same value may be an input more than once).</para>
/// <para>The network is a graph: each layer's node reads the values its <see cref="LayerInfo.Inputs"/> name
/// (the layer before it when empty), so a value read by several layers (a residual block's input) is one
/// ONNX value referenced by each of their nodes. The layers are in topological order, every layer but the
/// last is read by a later one, and the last layer's output is the logits.</para>
/// <para>The values are the current ones of <see cref="INetwork.Tensor(string)"/>; the export must not run
/// concurrently with a training step or a parameter write.</para>
/// </remarks>
public static class OnnxExporter
{
    /// <summary>The ONNX IR version written.</summary>
    public const long IrVersion = 8;

    /// <summary>The version of the default ("ai.onnx") operator set the model imports.</summary>
    public const long OpsetVersion = 13;

    /// <summary>The name of the model's input.</summary>
    public const string InputName = "input";

    /// <summary>The name of the model's output.</summary>
    public const string OutputName = "logits";

    /// <summary>The name of the symbolic batch dimension of the input and the output.</summary>
    public const string BatchDimension = "N";

    private const int FloatType = 1; // TensorProto.DataType.FLOAT

    /// <summary>Writes <paramref name="net"/> as an ONNX model to <paramref name="path"/>. The file is written to a
    /// temporary file in the same directory and then renamed over <paramref name="path"/>, so readers never see a
    /// partial model and a failed export leaves any previous file intact.</summary>
    /// <param name="net">The network to export.</param>
    /// <param name="path">The .onnx file to create or replace; its directory must exist.</param>
    /// <exception cref="ArgumentNullException"><paramref name="net"/> or <paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="NotSupportedException">The network has a layer or a layer order that ONNX export does not handle.</exception>
    /// <exception cref="InvalidOperationException">The network's layer and tensor descriptions are inconsistent (shapes,
    /// tensors, or a graph whose inputs name no earlier layer or whose layers other than the last are never read).</exception>
    /// <exception cref="IOException">The file could not be written.</exception>
    public static void Export(INetwork net, string path)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes = Export(net);

        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full) ?? ".";
        string temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>Encodes <paramref name="net"/> as an ONNX model (the bytes of a .onnx file).</summary>
    /// <param name="net">The network to export.</param>
    /// <returns>The serialized ModelProto. The same network with the same values always gives the same bytes.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="net"/> is null.</exception>
    /// <exception cref="NotSupportedException">The network has a layer or a layer order that ONNX export does not handle.</exception>
    /// <exception cref="InvalidOperationException">The network's layer and tensor descriptions are inconsistent (shapes,
    /// tensors, or a graph whose inputs name no earlier layer or whose layers other than the last are never read).</exception>
    public static byte[] Export(INetwork net)
    {
        ArgumentNullException.ThrowIfNull(net);
        return ExportLayers(net, net.Layers);
    }

    // The layer list is separate so that tests can feed the checks descriptions no generator produces.
    internal static byte[] ExportLayers(INetwork net, IReadOnlyList<LayerInfo> layers)
    {
        var graph = BuildGraph(net, layers);

        var model = new ProtoWriter(graph.Length + 64);
        model.WriteInt64(1, IrVersion);                       // ModelProto.ir_version
        model.WriteString(2, "GraphGen");                     // ModelProto.producer_name
        string? version = typeof(OnnxExporter).Assembly.GetName().Version?.ToString(3);
        if (version is not null) model.WriteString(3, version); // ModelProto.producer_version
        model.WriteMessage(7, graph);                         // ModelProto.graph
        model.WriteMessage(8, opset =>                        // ModelProto.opset_import
        {
            opset.WriteString(1, "");                         // OperatorSetIdProto.domain
            opset.WriteInt64(2, OpsetVersion);                // OperatorSetIdProto.version
        });
        return model.ToArray();
    }

    // GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12, value_info = 13.
    private static ProtoWriter BuildGraph(INetwork net, IReadOnlyList<LayerInfo> layers)
    {
        int[] inputShape = net.InputShape.ToArray();
        if (inputShape.Length is not (1 or 3))
            throw new NotSupportedException($"{net.Name}: ONNX export handles [C, H, W] or [features] inputs, not [{OnnxGraph.Join(inputShape)}]");
        if (inputShape.Any(d => d <= 0))
            throw new InvalidOperationException($"{net.Name}: input shape [{OnnxGraph.Join(inputShape)}] has a dimension that is not positive");

        if (layers.Count == 0)
            throw new InvalidOperationException($"{net.Name}: the network has no layers");
        var graph = new OnnxGraph(net, layers);

        // Each value the graph has computed so far, by the name LayerInfo.Inputs uses: its ONNX value and
        // per-sample shape. A value read by several layers is simply referenced by each of their nodes.
        var values = new Dictionary<string, (string Onnx, int[] Shape)>(StringComparer.Ordinal) { [LayerInfo.NetworkInput] = (InputName, inputShape) };
        var unread = new List<string>(); // layers whose output no later layer has read yet, in order

        // What a layer reads: its Inputs, or the layer before it (the network input for the first layer).
        OnnxValue[] Read(LayerInfo layer, int index, NodeWriter? writer)
        {
            string[] names = layer.Inputs.Length > 0 ? layer.Inputs : [index == 0 ? LayerInfo.NetworkInput : layers[index - 1].Name];
            int expected = writer?.Inputs ?? 1;
            bool more = writer?.MoreInputs ?? false;
            if (more ? names.Length < expected : names.Length != expected)
                throw new InvalidOperationException(
                    $"{net.Name}: layer {layer.Name} ({layer.Kind}) reads {names.Length} values ({string.Join(", ", names)}), expected {(more ? $"at least {expected}" : expected)}");
            var read = new OnnxValue[names.Length];
            for (int i = 0; i < names.Length; i++)
            {
                if (!values.TryGetValue(names[i], out var value))
                    throw new InvalidOperationException(
                        $"{net.Name}: layer {layer.Name} ({layer.Kind}) reads {names[i]}, which is neither the network input ({LayerInfo.NetworkInput}) nor an earlier layer");
                unread.Remove(names[i]);
                read[i] = new(names[i], value.Onnx, value.Shape);
            }
            return read;
        }

        for (int li = 0; li < layers.Count; li++)
        {
            var layer = layers[li];
            bool last = li == layers.Count - 1;
            if (values.ContainsKey(layer.Name)) // the network input's name included
                throw new InvalidOperationException(
                    $"{net.Name}: layer {layer.Name} ({layer.Kind}) has the name of the network input or of an earlier layer, so its readers are ambiguous");
            var writer = NodeWriter.Of(layer.Kind);
            var sources = Read(layer, li, writer);
            if (writer is null)
            {
                NodeWriter.CheckEachInput(graph, layer, sources);
                throw new NotSupportedException($"{net.Name}: layer {layer.Name} is of kind {layer.Kind}, which ONNX export does not support");
            }
            writer.CheckInputs(graph, layer, sources);
            var node = writer.Write(graph, layer, sources);

            if (!layer.OutputShape.SequenceEqual(node.Shape))
                throw new InvalidOperationException(
                    $"{net.Name}: layer {layer.Name} ({layer.Kind}) declares output [{OnnxGraph.Join(layer.OutputShape)}], ONNX {node.OpType} gives [{OnnxGraph.Join(node.Shape)}]");

            // The last layer writes the graph output directly unless a flatten must follow it.
            string output = last && node.Shape.Length == 1 ? OutputName : graph.Fresh(layer.Name, helper: false);
            graph.AddNode(node.OpType, layer.Name, node.Inputs, output, node.Attributes);
            values[layer.Name] = (output, node.Shape);
            if (!last) unread.Add(layer.Name);
            if (output != OutputName) graph.AddValueInfo(output, node.Shape);
        }

        if (unread.Count > 0)
            throw new InvalidOperationException(
                $"{net.Name}: no layer reads the output of {string.Join(", ", unread)}, and only the last layer ({layers[^1].Name}) is the network's output");
        var (result, resultShape) = values[layers[^1].Name];
        if (result != OutputName)
        {
            if (resultShape.Length == 3) (result, resultShape) = (graph.Flatten(result, resultShape), [OnnxGraph.Product(resultShape)]);
            graph.AddNode("Identity", graph.Fresh("output"), [result], OutputName);
        }
        if (resultShape.Length != 1 || resultShape[0] != net.Classes)
            throw new InvalidOperationException(
                $"{net.Name}: the last layer, {layers[^1].Name}, gives [{OnnxGraph.Join(resultShape)}] per sample, the network has {net.Classes} classes");

        var proto = new ProtoWriter(graph.Initializers.Sum(t => t.Length + 8) + 4096);
        foreach (var n in graph.Nodes) proto.WriteMessage(1, n);                 // GraphProto.node
        proto.WriteString(2, net.Name);                                          // GraphProto.name
        foreach (var tensor in graph.Initializers) proto.WriteMessage(5, tensor); // GraphProto.initializer
        proto.WriteMessage(11, ValueInfo(InputName, inputShape));                // GraphProto.input
        proto.WriteMessage(12, ValueInfo(OutputName, [net.Classes]));           // GraphProto.output
        foreach (var info in graph.ValueInfos) proto.WriteMessage(13, info);    // GraphProto.value_info
        return proto;
    }

    // ValueInfoProto { name = 1, type = 2 }; TypeProto { tensor_type = 1 }; TypeProto.Tensor { elem_type = 1, shape = 2 };
    // TensorShapeProto { dim = 1 }; Dimension { dim_value = 1, dim_param = 2 }. The batch axis is symbolic.
    internal static ProtoWriter ValueInfo(string name, int[] perSample)
    {
        var info = new ProtoWriter();
        info.WriteString(1, name);
        info.WriteMessage(2, type => type.WriteMessage(1, tensor =>
        {
            tensor.WriteInt64(1, FloatType);
            tensor.WriteMessage(2, shape =>
            {
                shape.WriteMessage(1, dim => dim.WriteString(2, BatchDimension));
                foreach (int d in perSample)
                    shape.WriteMessage(1, dim => dim.WriteInt64(1, d));
            });
        }));
        return info;
    }

    // AttributeProto: name = 1, f = 2, i = 3, ints = 8, type = 20 (FLOAT = 1, INT = 2, INTS = 7).
    internal static void IntAttribute(ProtoWriter node, string name, long value) =>
        node.WriteMessage(5, a => { a.WriteString(1, name); a.WriteInt64(3, value); a.WriteInt64(20, 2); });

    internal static void FloatAttribute(ProtoWriter node, string name, float value) =>
        node.WriteMessage(5, a => { a.WriteString(1, name); a.WriteFloat(2, value); a.WriteInt64(20, 1); });

    internal static void IntsAttribute(ProtoWriter node, string name, params long[] values) =>
        node.WriteMessage(5, a =>
        {
            a.WriteString(1, name);
            foreach (long v in values) a.WriteInt64(8, v);
            a.WriteInt64(20, 7);
        });

}
