/**
 * ONNX protobuf schema for protobufjs, written as a reflection descriptor (no .proto file, no
 * code generation). Field numbers follow the ONNX IR specification (onnx/onnx.proto). Every
 * field of the IR that a model file may carry is declared, so decode -> encode keeps the model
 * intact: protobufjs drops fields it does not know, and `roundTripLoss` (onnx.ts) checks that.
 */
import protobuf from 'protobufjs';

type Fields = Record<string, { id: number; type: string; rule?: 'repeated'; options?: { packed: boolean } }>;
const f = (id: number, type: string): Fields[string] => ({ id, type });
const r = (id: number, type: string): Fields[string] => ({ id, type, rule: 'repeated' });
const packed = (id: number, type: string): Fields[string] => ({ id, type, rule: 'repeated', options: { packed: true } });
/** proto2 repeated scalar without [packed = true]: written unpacked, as the ONNX writers do. */
const unpacked = (id: number, type: string): Fields[string] => ({ id, type, rule: 'repeated', options: { packed: false } });

const kv = { fields: { key: f(1, 'string'), value: f(2, 'string') } };

const descriptor = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          fields: {
            name: f(1, 'string'),
            refAttrName: f(21, 'string'),
            docString: f(13, 'string'),
            type: f(20, 'int32'),
            f: f(2, 'float'),
            i: f(3, 'int64'),
            s: f(4, 'bytes'),
            t: f(5, 'TensorProto'),
            g: f(6, 'GraphProto'),
            sparseTensor: f(22, 'SparseTensorProto'),
            tp: f(14, 'TypeProto'),
            floats: unpacked(7, 'float'),
            ints: unpacked(8, 'int64'),
            strings: r(9, 'bytes'),
            tensors: r(10, 'TensorProto'),
            graphs: r(11, 'GraphProto'),
            sparseTensors: r(23, 'SparseTensorProto'),
            typeProtos: r(15, 'TypeProto'),
          },
        },
        ValueInfoProto: {
          fields: {
            name: f(1, 'string'),
            type: f(2, 'TypeProto'),
            docString: f(3, 'string'),
            metadataProps: r(4, 'StringStringEntryProto'),
          },
        },
        NodeProto: {
          fields: {
            input: r(1, 'string'),
            output: r(2, 'string'),
            name: f(3, 'string'),
            opType: f(4, 'string'),
            domain: f(7, 'string'),
            overload: f(8, 'string'),
            attribute: r(5, 'AttributeProto'),
            docString: f(6, 'string'),
            metadataProps: r(9, 'StringStringEntryProto'),
          },
        },
        TrainingInfoProto: {
          fields: {
            initialization: f(1, 'GraphProto'),
            algorithm: f(2, 'GraphProto'),
            initializationBinding: r(3, 'StringStringEntryProto'),
            updateBinding: r(4, 'StringStringEntryProto'),
          },
        },
        ModelProto: {
          fields: {
            irVersion: f(1, 'int64'),
            opsetImport: r(8, 'OperatorSetIdProto'),
            producerName: f(2, 'string'),
            producerVersion: f(3, 'string'),
            domain: f(4, 'string'),
            modelVersion: f(5, 'int64'),
            docString: f(6, 'string'),
            graph: f(7, 'GraphProto'),
            metadataProps: r(14, 'StringStringEntryProto'),
            trainingInfo: r(20, 'TrainingInfoProto'),
            functions: r(25, 'FunctionProto'),
          },
        },
        StringStringEntryProto: kv,
        TensorAnnotation: {
          fields: {
            tensorName: f(1, 'string'),
            quantParameterTensorNames: r(2, 'StringStringEntryProto'),
          },
        },
        GraphProto: {
          fields: {
            node: r(1, 'NodeProto'),
            name: f(2, 'string'),
            initializer: r(5, 'TensorProto'),
            sparseInitializer: r(15, 'SparseTensorProto'),
            docString: f(10, 'string'),
            input: r(11, 'ValueInfoProto'),
            output: r(12, 'ValueInfoProto'),
            valueInfo: r(13, 'ValueInfoProto'),
            quantizationAnnotation: r(14, 'TensorAnnotation'),
            metadataProps: r(16, 'StringStringEntryProto'),
          },
        },
        TensorProto: {
          fields: {
            dims: unpacked(1, 'int64'),
            dataType: f(2, 'int32'),
            segment: f(3, 'Segment'),
            floatData: packed(4, 'float'),
            int32Data: packed(5, 'int32'),
            stringData: r(6, 'bytes'),
            int64Data: packed(7, 'int64'),
            name: f(8, 'string'),
            docString: f(12, 'string'),
            rawData: f(9, 'bytes'),
            externalData: r(13, 'StringStringEntryProto'),
            dataLocation: f(14, 'int32'),
            doubleData: packed(10, 'double'),
            uint64Data: packed(11, 'uint64'),
            metadataProps: r(16, 'StringStringEntryProto'),
          },
          nested: { Segment: { fields: { begin: f(1, 'int64'), end: f(2, 'int64') } } },
        },
        SparseTensorProto: {
          fields: { values: f(1, 'TensorProto'), indices: f(2, 'TensorProto'), dims: unpacked(3, 'int64') },
        },
        TensorShapeProto: {
          fields: { dim: r(1, 'Dimension') },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
              fields: { dimValue: f(1, 'int64'), dimParam: f(2, 'string'), denotation: f(3, 'string') },
            },
          },
        },
        TypeProto: {
          oneofs: {
            value: { oneof: ['tensorType', 'sequenceType', 'mapType', 'optionalType', 'sparseTensorType', 'opaqueType'] },
          },
          fields: {
            tensorType: f(1, 'Tensor'),
            sequenceType: f(4, 'Sequence'),
            mapType: f(5, 'Map'),
            optionalType: f(9, 'Optional'),
            sparseTensorType: f(8, 'SparseTensor'),
            opaqueType: f(7, 'Opaque'),
            denotation: f(6, 'string'),
          },
          nested: {
            Tensor: { fields: { elemType: f(1, 'int32'), shape: f(2, 'TensorShapeProto') } },
            Sequence: { fields: { elemType: f(1, 'TypeProto') } },
            Map: { fields: { keyType: f(1, 'int32'), valueType: f(2, 'TypeProto') } },
            Optional: { fields: { elemType: f(1, 'TypeProto') } },
            SparseTensor: { fields: { elemType: f(1, 'int32'), shape: f(2, 'TensorShapeProto') } },
            Opaque: { fields: { domain: f(1, 'string'), name: f(2, 'string') } },
          },
        },
        OperatorSetIdProto: { fields: { domain: f(1, 'string'), version: f(2, 'int64') } },
        FunctionProto: {
          fields: {
            name: f(1, 'string'),
            input: r(4, 'string'),
            output: r(5, 'string'),
            attribute: r(6, 'string'),
            attributeProto: r(11, 'AttributeProto'),
            node: r(7, 'NodeProto'),
            docString: f(8, 'string'),
            opsetImport: r(9, 'OperatorSetIdProto'),
            domain: f(10, 'string'),
            overload: f(13, 'string'),
            valueInfo: r(12, 'ValueInfoProto'),
            metadataProps: r(14, 'StringStringEntryProto'),
          },
        },
      },
    },
  },
};

export const onnxRoot = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
export const ModelProtoType = onnxRoot.lookupType('onnx.ModelProto');

/** TensorProto.DataType values used here. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
} as const;

/** AttributeProto.AttributeType values used here. */
export const AttrType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
} as const;
