;; int8 first-pass scorer for the gallery. Shared memory so every worker thread scores its own
;; slice of the same template matrix without copies.
;;
;; scores(q, t, scales, out, start, end, dim):
;;   for i in [start, end): out[i] = f32(dot(query_i16[0..dim), templates_i8[i*dim..])) * scales[i]
;; The query is pre-widened to int16 once per search so the hot loop widens only template bytes;
;; i32x4.dot_i16x8_s then does 8 multiply-adds per instruction. dim must be a multiple of 32.
(module
  (import "env" "memory" (memory 1 65536 shared))

  (func $dot (param $q i32) (param $t i32) (param $dim i32) (result i32)
    (local $end i32) (local $v v128) (local $acc0 v128) (local $acc1 v128)
    (local.set $end (i32.add (local.get $t) (local.get $dim)))
    (loop $l
      (local.set $v (v128.load (local.get $t)))
      (local.set $acc0 (i32x4.add (local.get $acc0)
        (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (v128.load (local.get $q)))))
      (local.set $acc1 (i32x4.add (local.get $acc1)
        (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (v128.load offset=16 (local.get $q)))))
      (local.set $v (v128.load offset=16 (local.get $t)))
      (local.set $acc0 (i32x4.add (local.get $acc0)
        (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (v128.load offset=32 (local.get $q)))))
      (local.set $acc1 (i32x4.add (local.get $acc1)
        (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (v128.load offset=48 (local.get $q)))))
      (local.set $t (i32.add (local.get $t) (i32.const 32)))
      (local.set $q (i32.add (local.get $q) (i32.const 64)))
      (br_if $l (i32.lt_u (local.get $t) (local.get $end))))
    (local.set $acc0 (i32x4.add (local.get $acc0) (local.get $acc1)))
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $acc0)) (i32x4.extract_lane 1 (local.get $acc0)))
      (i32.add (i32x4.extract_lane 2 (local.get $acc0)) (i32x4.extract_lane 3 (local.get $acc0)))))

  (func (export "scores")
    (param $q i32) (param $t i32) (param $scales i32) (param $out i32)
    (param $start i32) (param $end i32) (param $dim i32)
    (local $i i32) (local $tp i32)
    (if (i32.ge_u (local.get $start) (local.get $end)) (then (return)))
    (local.set $i (local.get $start))
    (local.set $tp (i32.add (local.get $t) (i32.mul (local.get $start) (local.get $dim))))
    (loop $rows
      (f32.store
        (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
        (f32.mul
          (f32.convert_i32_s (call $dot (local.get $q) (local.get $tp) (local.get $dim)))
          (f32.load (i32.add (local.get $scales) (i32.shl (local.get $i) (i32.const 2))))))
      (local.set $tp (i32.add (local.get $tp) (local.get $dim)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $rows (i32.lt_u (local.get $i) (local.get $end)))))
)
