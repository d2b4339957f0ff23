//! Macros for the boilerplate every optimizer file shares: the state-dict table of a
//! configuration, builder setters, getters, `build`, and the learning-rate accessors of
//! [`Optimizer`](crate::optim::Optimizer).

/// The hyper-parameter table of a configuration struct: `write` puts the fields into a
/// state dict as `param_groups.0.<key>` in the order listed (`hyper` for `f64`, `flag`
/// for `bool`), `read` takes them back and validates them.
///
/// ```text
/// hyper_table!(SgdConfig { lr: hyper "lr", nesterov: flag "nesterov" });
/// ```
macro_rules! hyper_table {
    ($cfg:ident { $($field:ident: $kind:ident $key:literal),* $(,)? }) => {
        impl $cfg {
            fn write<F: Float>(&self, w: &mut Writer<F>) {
                $(w.$kind($key, self.$field);)*
            }

            fn read<F: Float>(r: &mut Reader<'_, F>) -> Result<Self> {
                let cfg = $cfg { $($field: r.$kind($key)?,)* };
                cfg.validate()?;
                Ok(cfg)
            }
        }
    };
}

/// Builder setters: `pub fn <field>(mut self, <field>: <type>) -> Self` storing the value
/// in `self.cfg.<field>`, with the given docs and attributes.
macro_rules! setters {
    ($($(#[$attr:meta])* $field:ident: $ty:ty),* $(,)?) => {
        $(
            $(#[$attr])*
            pub fn $field(mut self, $field: $ty) -> Self {
                self.cfg.$field = $field;
                self
            }
        )*
    };
}

/// Getters: `pub fn <field>(&self) -> <type>` reading `self.cfg.<field>`, with the given
/// docs and attributes.
macro_rules! getters {
    ($($(#[$attr:meta])* $field:ident: $ty:ty),* $(,)?) => {
        $(
            $(#[$attr])*
            pub fn $field(&self) -> $ty {
                self.cfg.$field
            }
        )*
    };
}

/// `Default` for the builder `$builder` (starting from `$defaults`) and its `build`,
/// which validates the configuration and builds `$opt` with fresh state (the other
/// fields of `$opt::default()`).
macro_rules! builder_basics {
    ($opt:ident, $builder:ident, $defaults:expr) => {
        impl<F: Float> Default for $builder<F> {
            fn default() -> Self {
                $builder { cfg: $defaults, _f: PhantomData }
            }
        }

        impl<F: Float> $builder<F> {
            /// Validates the hyper-parameters and builds the optimizer.
            ///
            /// # Errors
            #[doc = concat!("See [`", stringify!($opt), "`].")]
            pub fn build(self) -> Result<$opt<F>> {
                self.cfg.validate()?;
                Ok($opt { cfg: self.cfg, ..$opt::default() })
            }
        }
    };
}

/// The learning-rate accessors of `Optimizer` on `self.cfg.lr`, and with a field name,
/// the momentum accessors on `self.cfg.<field>` (`β1` of the Adam family).
macro_rules! lr_accessors {
    () => {
        fn lr(&self) -> F {
            F::lit(self.cfg.lr)
        }

        fn set_lr(&mut self, lr: F) {
            self.cfg.lr = lr.as_f64();
        }
    };
    ($momentum:ident) => {
        lr_accessors!();

        fn group_momentum(&self, _group: usize) -> Option<F> {
            Some(F::lit(self.cfg.$momentum))
        }

        fn set_group_momentum(&mut self, _group: usize, momentum: F) {
            self.cfg.$momentum = momentum.as_f64();
        }
    };
}
