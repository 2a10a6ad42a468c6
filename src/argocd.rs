//! The Argo CD config management plugin entry: which environment the Application asks for.
//!
//! Argo CD passes `plugin.env` entries with the `ARGOCD_ENV_` prefix and `plugin.parameters` as JSON
//! in `ARGOCD_APP_PARAMETERS` (Argo CD docs, "Config Management Plugins", "Using environment
//! variables in your plugin" and "Using parameters"). Anything unexpected there is an error, never a
//! silent fallback to the base spec: a misspelt parameter would otherwise deploy the wrong sizes.

use serde::Deserialize;

use crate::error::Error;

/// The Argo CD plugin's environment: a variable set on the Application (`plugin.env`)...
pub const ENVIRONMENT_VARIABLE: &str = "ARGOCD_ENV_IGNITION_ENVIRONMENT";
/// ...or a plugin parameter (`plugin.parameters`), which arrive as JSON in this variable.
pub const PARAMETERS_VARIABLE: &str = "ARGOCD_APP_PARAMETERS";
pub const ENVIRONMENT_PARAMETER: &str = "environment";
/// Where the choice is made, for messages.
pub const HOW_TO_CHOOSE: &str = "set the Application's plugin env IGNITION_ENVIRONMENT or plugin parameter environment";

/// The environment the Application asks for, and where it was given (for messages): the
/// `ARGOCD_ENV_` variable or the plugin parameter. Both given and different is an error, and so is
/// an empty value, a parameter that is not a string, and a parameter of another name.
pub fn environment(
    variable: Option<String>,
    parameters: Option<String>,
) -> Result<Option<(String, &'static str)>, Error> {
    let variable = match variable {
        Some(value) if value.trim().is_empty() => {
            return Err(Error::invalid(
                ENVIRONMENT_VARIABLE,
                "is empty: give an environment of the spec, or base for the base spec",
            ))
        }
        other => other,
    };
    let parameter = match parameters {
        Some(json) if !json.trim().is_empty() => parameter(&json)?,
        _ => None,
    };
    match (variable, parameter) {
        (Some(variable), Some(parameter)) if variable != parameter => Err(Error::invalid(
            ENVIRONMENT_VARIABLE,
            format!("is {variable:?} but the plugin parameter {ENVIRONMENT_PARAMETER:?} is {parameter:?}: give one"),
        )),
        (Some(variable), _) => Ok(Some((variable, ENVIRONMENT_VARIABLE))),
        (None, Some(parameter)) => Ok(Some((parameter, "plugin parameter environment"))),
        (None, None) => Ok(None),
    }
}

/// The `environment` parameter from `ARGOCD_APP_PARAMETERS`: `[{"name": "environment", "string": "prod"}]`.
fn parameter(json: &str) -> Result<Option<String>, Error> {
    #[derive(Deserialize)]
    struct Parameter {
        name: String,
        #[serde(default)]
        string: Option<String>,
        #[serde(default)]
        array: Option<serde_json::Value>,
        #[serde(default)]
        map: Option<serde_json::Value>,
    }
    let parameters: Vec<Parameter> = serde_json::from_str(json).map_err(|error| {
        Error::invalid(
            PARAMETERS_VARIABLE,
            format!("is not the JSON list Argo CD sends: {error}"),
        )
    })?;
    let mut found = None;
    for parameter in parameters {
        if parameter.name != ENVIRONMENT_PARAMETER {
            let hint = crate::spec::nearest_name(&parameter.name, [ENVIRONMENT_PARAMETER].into_iter())
                .map(|name| format!(" (did you mean {name:?}?)"))
                .unwrap_or_default();
            return Err(Error::invalid(
                PARAMETERS_VARIABLE,
                format!(
                    "unknown plugin parameter {:?}{hint}: the only parameter is {ENVIRONMENT_PARAMETER:?}",
                    parameter.name
                ),
            ));
        }
        let value = match (parameter.string, parameter.array, parameter.map) {
            (Some(value), None, None) => value,
            (_, Some(_), _) | (_, _, Some(_)) => {
                return Err(Error::invalid(
                    PARAMETERS_VARIABLE,
                    format!("plugin parameter {ENVIRONMENT_PARAMETER:?} must be a string, found an array or a map"),
                ))
            }
            (None, None, None) => String::new(),
        };
        if value.trim().is_empty() {
            return Err(Error::invalid(
                PARAMETERS_VARIABLE,
                format!(
                    "plugin parameter {ENVIRONMENT_PARAMETER:?} is empty: give an environment of the spec, or base for the base spec"
                ),
            ));
        }
        found = Some(value);
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(result: Result<Option<(String, &'static str)>, Error>) -> String {
        result.expect_err("an error").to_string()
    }

    #[test]
    fn a_parameter_or_the_variable_chooses() {
        let json = r#"[{"name":"environment","string":"prod"}]"#.to_owned();
        assert_eq!(environment(None, Some(json.clone())).unwrap().unwrap().0, "prod");
        assert_eq!(environment(Some("prod".into()), Some(json)).unwrap().unwrap().0, "prod");
        assert_eq!(environment(None, None).unwrap(), None);
        assert_eq!(environment(None, Some(" ".into())).unwrap(), None);
    }

    #[test]
    fn nothing_unexpected_falls_back_to_the_base() {
        assert!(message(environment(
            None,
            Some(r#"[{"name":"enviroment","string":"prod"}]"#.into())
        ))
        .contains("did you mean \"environment\""));
        assert!(message(environment(
            None,
            Some(r#"[{"name":"environment","string":""}]"#.into())
        ))
        .contains("is empty"));
        assert!(message(environment(
            None,
            Some(r#"[{"name":"environment","array":["prod"]}]"#.into())
        ))
        .contains("must be a string"));
        assert!(message(environment(Some(String::new()), None)).contains("is empty"));
        assert!(message(environment(
            Some("dev".into()),
            Some(r#"[{"name":"environment","string":"prod"}]"#.into())
        ))
        .contains("give one"));
        assert!(message(environment(None, Some("{".into()))).contains("not the JSON list"));
    }
}
